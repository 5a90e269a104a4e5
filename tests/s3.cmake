# Tests of the S3 client, the signer, AWS settings, URIs and the ObjectStore implementations.

# Lets LocalS3Server find s3rver when a test binary is run by hand, outside ctest (which sets
# LOADSTAR_SOURCE_DIR).
target_compile_definitions(loadstar_test_support PRIVATE LOADSTAR_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}")

loadstar_test(NAME sigv4_test SOURCES unit/sigv4_test.cc LIBS loadstar_storage LABEL unit)
loadstar_test(NAME uri_test SOURCES unit/uri_test.cc LIBS loadstar_core LABEL unit)
loadstar_test(NAME aws_config_test SOURCES unit/aws_config_test.cc LIBS loadstar_storage LABEL unit)
loadstar_test(NAME s3_internal_test SOURCES unit/s3_internal_test.cc LIBS loadstar_storage LABEL unit)
loadstar_test(NAME file_object_store_test SOURCES unit/file_object_store_test.cc LIBS loadstar_storage LABEL unit)

loadstar_test(NAME sigv4_curl_test
              SOURCES integration/sigv4_curl_test.cc integration/scripted_http_server.cc
              LIBS loadstar_storage loadstar_test_support LABEL integration)
loadstar_test(NAME s3_faults_test
              SOURCES integration/s3_faults_test.cc integration/scripted_http_server.cc
              LIBS loadstar_storage loadstar_test_support LABEL integration)
loadstar_test(NAME s3_client_test SOURCES integration/s3_client_test.cc
              LIBS loadstar_storage loadstar_test_support LABEL integration)
loadstar_test(NAME subprocess_test SOURCES integration/subprocess_test.cc
              LIBS loadstar_test_support LABEL integration)

# HTTPS: the local S3 server behind a TLS front (tests/tools/tls_front.py) with certificates
# from a private test CA, made by the `openssl` command.
loadstar_test(NAME s3_tls_test SOURCES integration/s3_tls_test.cc support/tls_front.cc
              LIBS loadstar_storage loadstar_test_support LABEL integration)

# `loadstar run` over HTTPS to S3 (AWS_CA_BUNDLE) and TLS to the warehouse (sslmode=verify-full).
loadstar_test(NAME tls_pipeline_e2e_test SOURCES e2e/tls_pipeline_test.cc support/tls_front.cc
              LIBS loadstar_storage loadstar_faults_support LABEL e2e TIMEOUT 600)
add_dependencies(tls_pipeline_e2e_test loadstar)
