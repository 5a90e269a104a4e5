// The JSON printer over any message (proto/message_json.h): what it writes for each kind of
// field, and that its documents read back through the parser beside it.
#include "proto/message_json.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/wrappers.pb.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "loadstar.pb.h"
#include "run_status.pb.h"

namespace loadstar::proto {
namespace {

TEST(MessageJsonTest, FieldsInDeclarationOrderNumbersAsNumbers) {
  wire::Task task;
  task.set_task_id(18'446'744'073'709'551'615u);
  task.set_attempt(2);
  task.set_run_id(-7);
  task.set_schema("s\"q\\l\n");
  wire::FileRef* file = task.add_files();
  file->set_uri("s3://b/k");
  file->set_size(10);
  file->set_kind(wire::FILE_KIND_EVENT);
  EXPECT_EQ(MessageToJson(task),
            R"({"task_id":18446744073709551615,"attempt":2,"run_id":-7,"schema":"s\"q\\l\n",)"
            R"("files":[{"uri":"s3://b/k","size":10,"etag":"","kind":"file_kind_event","file_id":0}],"max_record_bytes":0,"staging":""})");

  wire::Task back;
  ASSERT_TRUE(JsonToMessage(MessageToJson(task), &back).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(task, back));
}

TEST(MessageJsonTest, OneofsMapsBytesAndPresence) {
  // A oneof: only the member set. A message field not set: null.
  wire::Envelope env;
  env.set_protocol_version(3);
  env.mutable_heartbeat();
  EXPECT_EQ(MessageToJson(env), R"({"protocol_version":3,"heartbeat":{}})");
  EXPECT_EQ(MessageToJson(wire::Envelope()), R"({"protocol_version":0})");

  // A map, by key; the oneof inside each value.
  google::protobuf::Struct st;
  (*st.mutable_fields())["zeta"].set_bool_value(true);
  (*st.mutable_fields())["alpha"].set_number_value(0.5);
  (*st.mutable_fields())["mid"].set_null_value(google::protobuf::NULL_VALUE);
  EXPECT_EQ(MessageToJson(st),
            R"({"fields":{"alpha":{"number_value":0.5},"mid":{"null_value":"null_value"},"zeta":{"bool_value":true}}})");

  google::protobuf::BytesValue bytes;
  bytes.set_value(std::string("\x00\xff" "ab", 4));
  EXPECT_EQ(MessageToJson(bytes), R"({"value":"AP9hYg=="})");
  google::protobuf::BytesValue back;
  ASSERT_TRUE(JsonToMessage(MessageToJson(bytes), &back).ok());
  EXPECT_EQ(back.value(), bytes.value());

  // proto3 optional: null until set; non-finite numbers: null.
  status::StatusSnapshot s;
  s.set_elapsed_s(std::numeric_limits<double>::infinity());
  std::string json = MessageToJson(s);
  EXPECT_NE(json.find(R"("elapsed_s":null,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("recent_bytes_per_s":null,"eta_s":null,"task_latency":null,"workers":[],"workers_unfit":[]})"),
            std::string::npos)
      << json;
  s.set_eta_s(0);
  json = MessageToJson(s);
  EXPECT_NE(json.find(R"("eta_s":0,)"), std::string::npos) << json;
}

TEST(MessageJsonTest, EnumsByNameInLowerCaseOrByNumber) {
  EXPECT_EQ(EnumValueText(status::StatusSnapshot::Phase_descriptor(), status::StatusSnapshot::TRANSFORMING),
            "transforming");
  EXPECT_EQ(EnumValueText(status::StatusSnapshot::Phase_descriptor(), 42), "42");
  status::StatusSnapshot s;
  s.set_phase(static_cast<status::StatusSnapshot::Phase>(42));
  EXPECT_NE(MessageToJson(s).find(R"("phase":42,)"), std::string::npos);
  status::StatusSnapshot back;
  ASSERT_TRUE(JsonToMessage(R"({"phase":"done"})", &back).ok());
  EXPECT_EQ(back.phase(), status::StatusSnapshot::DONE);
  ASSERT_TRUE(JsonToMessage(R"({"phase":42})", &back).ok());
  EXPECT_EQ(back.phase(), 42);
}

TEST(MessageJsonTest, TheParserSaysWhatIsWrong) {
  status::StatusSnapshot s;
  s.set_run_id(5);
  EXPECT_TRUE(JsonToMessage(R"({"run_id":3,"from_a_newer_build":{"a":[1]}})", &s).ok());
  EXPECT_EQ(s.run_id(), 3);
  EXPECT_TRUE(JsonToMessage(R"({"runId":4})", &s).ok()) << "protobuf's own mapping reads too";
  EXPECT_EQ(s.run_id(), 4);
  Status bad = JsonToMessage(R"({"run_id":"three"})", &s);
  EXPECT_EQ(bad.code(), StatusCode::kParse);
  EXPECT_FALSE(bad.message().empty());
  EXPECT_EQ(JsonToMessage("not json", &s).code(), StatusCode::kParse);
  EXPECT_EQ(JsonToMessage(R"({"files_done":-1})", &s).code(), StatusCode::kParse);
  EXPECT_EQ(JsonToMessage("[1]", &s).code(), StatusCode::kParse);
  // Shapes protobuf's parser would let through.
  Status shape = JsonToMessage(R"({"workers":{}})", &s);
  EXPECT_EQ(shape.code(), StatusCode::kParse);
  EXPECT_NE(shape.message().find("\"workers\" is not an array"), std::string::npos) << shape.message();
  shape = JsonToMessage(R"({"workers":[{"name":7}]})", &s);
  EXPECT_NE(shape.message().find("\"workers[0].name\" is not a string"), std::string::npos) << shape.message();
  EXPECT_EQ(JsonToMessage(R"({"task_latency":[1]})", &s).code(), StatusCode::kParse);
  EXPECT_EQ(JsonToMessage(R"({"task_latency":{"counts":[1,"x"]}})", &s).code(), StatusCode::kParse);
  EXPECT_TRUE(JsonToMessage(R"({"workers":null,"task_latency":{"counts":[1,"2"]}})", &s).ok());
  EXPECT_EQ(s.task_latency().counts_size(), 2);
}

}  // namespace
}  // namespace loadstar::proto
