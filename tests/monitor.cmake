# Watching a run: the monitor server (/metrics, /healthz, /status), the progress view and
# `loadstar status`.
# Encodings and renderings alone, and the progress view drawn on a pseudo-terminal: no services.
loadstar_test(NAME status_encoding_test SOURCES unit/status_encoding_test.cc
              LIBS loadstar_monitor simdjson::simdjson LABEL unit)
# The JSON printer and parser of messages (proto/message_json.h) the status document is made with.
loadstar_test(NAME message_json_test SOURCES unit/message_json_test.cc LIBS loadstar_proto LABEL unit)
loadstar_test(NAME progress_view_test SOURCES unit/progress_view_test.cc LIBS loadstar_monitor LABEL unit)
# The server over real HTTP (curl), its metrics read by an exposition-format parser, and
# `loadstar status` against it.
loadstar_test(NAME monitor_server_integration_test
              SOURCES integration/monitor_server_test.cc integration/scripted_http_server.cc
              LIBS loadstar_test_support loadstar_monitor loadstar_cli simdjson::simdjson LABEL integration TIMEOUT 120)

loadstar_test(NAME monitor_e2e_test SOURCES e2e/monitor_test.cc
              LIBS loadstar_test_support simdjson::simdjson LABEL e2e TIMEOUT 300)
add_dependencies(monitor_e2e_test loadstar)
