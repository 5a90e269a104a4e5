# The whole path: coordinator and worker processes, a private PostgreSQL, a local S3 server.
# (loadstar_faults_support: a schema created before the run, and the run's /status.)
loadstar_test(NAME pipeline_e2e_test SOURCES e2e/pipeline_test.cc
              LIBS loadstar_faults_support loadstar_storage LABEL e2e TIMEOUT 900)
add_dependencies(pipeline_e2e_test loadstar)

# Peers that lie, fail or send too much; signals during the transform; too many local workers;
# empty sources.
loadstar_test(NAME peers_e2e_test SOURCES e2e/peers_test.cc
              LIBS loadstar_test_support loadstar_faults_support loadstar_transport loadstar_warehouse cppzmq LABEL e2e TIMEOUT 900)
add_dependencies(peers_e2e_test loadstar)

# The command line through the binary: usage errors, --version, warehouse strings and passwords.
loadstar_test(NAME cli_e2e_test SOURCES e2e/cli_test.cc LIBS loadstar_test_support LABEL e2e)
add_dependencies(cli_e2e_test loadstar)

# CURVE between real processes: only listed worker keys get tasks, strangers change nothing, `run`
# keys its own workers with no secret in argv or logs, keygen, plaintext only on loopback.
loadstar_test(NAME curve_e2e_test SOURCES e2e/curve_test.cc
              LIBS loadstar_test_support loadstar_transport cppzmq LABEL e2e TIMEOUT 600)
add_dependencies(curve_e2e_test loadstar)
