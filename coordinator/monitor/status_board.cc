#include "coordinator/monitor/status_board.h"

#include "proto/message_json.h"

namespace loadstar::coordinator {

std::string PhaseName(RunPhase phase) {
  return proto::EnumValueText(status::StatusSnapshot::Phase_descriptor(), phase);
}

StatusSnapshot NewStatusSnapshot() {
  StatusSnapshot s;
  status::TaskLatency* latency = s.mutable_task_latency();
  latency->mutable_bounds_s()->Add(kTaskLatencyBuckets.begin(), kTaskLatencyBuckets.end());
  latency->mutable_counts()->Resize(static_cast<int>(kTaskLatencyBuckets.size() + 1), 0);
  return s;
}

void RecordTaskLatency(StatusSnapshot* s, double latency_s) {
  status::TaskLatency* latency = s->mutable_task_latency();
  latency->mutable_counts()->Resize(static_cast<int>(kTaskLatencyBuckets.size() + 1), 0);
  size_t bucket = 0;
  while (bucket < kTaskLatencyBuckets.size() && latency_s > kTaskLatencyBuckets[bucket]) ++bucket;
  latency->set_counts(static_cast<int>(bucket), latency->counts(static_cast<int>(bucket)) + 1);
  latency->set_sum_s(latency->sum_s() + latency_s);
}

}  // namespace loadstar::coordinator
