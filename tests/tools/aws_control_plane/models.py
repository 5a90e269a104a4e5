"""The service models the stand-in checks requests against and builds responses from: those shipped
with botocore (Debian's python3-botocore), found through botocore's own loader."""

import os

import botocore.loaders
import botocore.model

# The services the stand-in serves, by signing name (the credential scope's service).
SERVICES = {"redshift": "2012-12-01", "iam": "2010-05-08"}

# Errors every Query-protocol service may answer that no model lists (AWS's common errors).
COMMON_ERRORS = {
    "InvalidAction": 400, "MissingAction": 400, "MissingParameter": 400, "InvalidParameterValue": 400,
    "InvalidParameterCombination": 400, "ValidationError": 400, "MalformedQueryString": 404,
    "IncompleteSignature": 400, "InvalidClientTokenId": 403, "MissingAuthenticationToken": 403,
    "SignatureDoesNotMatch": 403, "RequestExpired": 400, "Throttling": 400, "ThrottlingException": 400,
    "ServiceUnavailable": 503, "InternalFailure": 500, "AccessDenied": 403, "OptInRequired": 403,
    "UnknownParameter": 400, "NotImplemented": 501, "NotFound": 404,
}


class Service:
    """One service's model: operations, shapes, the XML namespace of its responses, its errors."""

    def __init__(self, loader, name, api_version):
        data, self.path = loader.load_data_with_path("%s/%s/service-2" % (name, api_version))
        self.file = next((self.path + ext for ext in ("", ".json", ".json.gz") if os.path.isfile(self.path + ext)),
                         self.path)
        self.model = botocore.model.ServiceModel(data, service_name=name)
        self.name = name
        self.api_version = self.model.api_version
        if self.api_version != api_version:
            raise RuntimeError("%s: model %s has apiVersion %s" % (name, self.path, self.api_version))
        self.namespace = self.model.metadata["xmlNamespace"]
        self.operations = set(self.model.operation_names)
        # error code -> (HTTP status, sender fault), from every exception shape of the model
        self.errors = {}
        for shape_name in self.model.shape_names:
            shape = self.model.shape_for(shape_name)
            if shape.metadata.get("exception"):
                err = shape.metadata.get("error", {})
                code = err.get("code", shape_name)
                self.errors[code] = (err.get("httpStatusCode", 400), err.get("senderFault", True))

    def operation(self, action):
        return self.model.operation_model(action)

    def error_status(self, code):
        """(HTTP status, 'Sender' or 'Receiver') the service answers error CODE with."""
        if code in self.errors:
            status, sender = self.errors[code]
        else:
            status = COMMON_ERRORS.get(code, 400)
            sender = status < 500
        return status, ("Sender" if sender else "Receiver")


def load_services():
    loader = botocore.loaders.create_loader()
    return {name: Service(loader, name, version) for name, version in SERVICES.items()}


def service_for_version(version):
    for name, v in SERVICES.items():
        if v == version:
            return name
    return None


class ApiError(Exception):
    """An error the service answers a well-formed request with (its code, from the model where the
    model lists it, and a message)."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
