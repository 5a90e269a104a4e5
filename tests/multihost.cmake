# loadstar across hosts: each test builds a network of namespaces (a coordinator host, worker
# hosts, a warehouse host, an S3 host on 10.213.0.0/24, tests/tools/netns_lab) and tears it down.
# Needs root; RESOURCE_LOCK netns keeps two of them from building networks at once.
add_library(loadstar_netns_support STATIC support/netns.cc)
target_link_libraries(loadstar_netns_support PUBLIC loadstar_test_support)

loadstar_test(NAME multihost_e2e_test SOURCES e2e/multihost_test.cc
              LIBS loadstar_netns_support loadstar_faults_support LABEL e2e TIMEOUT 400)
add_dependencies(multihost_e2e_test loadstar)
set_tests_properties(multihost_e2e_test PROPERTIES RESOURCE_LOCK netns)
