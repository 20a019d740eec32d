#include "kafka/consumer_client.hpp"

#include "kafka/client_conf.hpp"

#include <librdkafka/rdkafkacpp.h>

namespace flashsale::kafka {

namespace {

std::vector<topic_partition> to_plain(const std::vector<RdKafka::TopicPartition*>& parts) {
  std::vector<topic_partition> out;
  out.reserve(parts.size());
  for (const auto* tp : parts)
    out.push_back({tp->topic(), tp->partition(), tp->offset(), tp->err() == RdKafka::ERR_NO_ERROR});
  return out;
}

using partition_list = std::vector<RdKafka::TopicPartition*>;

/// "topic[partition],…" of the partitions: all of them, or with `only_failed` those
/// whose own error is set (pause and resume report per partition).
std::string describe(const partition_list& parts, bool only_failed = false) {
  std::string out;
  for (const auto* tp : parts)
    if (!only_failed || tp->err() != RdKafka::ERR_NO_ERROR)
      out += (out.empty() ? "" : ",") + tp->topic() + "[" + std::to_string(tp->partition()) + "]";
  return out;
}

/// The first per-partition error of `parts`, or ERR_NO_ERROR.
RdKafka::ErrorCode first_partition_error(const partition_list& parts) {
  for (const auto* tp : parts)
    if (tp->err() != RdKafka::ERR_NO_ERROR)
      return tp->err();
  return RdKafka::ERR_NO_ERROR;
}

} // namespace

struct consumer_client::impl : RdKafka::RebalanceCb, RdKafka::EventCb {
  handlers h;
  std::unique_ptr<RdKafka::KafkaConsumer> handle;
  bool assignment_ok = true;

  void report(const char* op, RdKafka::ErrorCode err, const std::string& partitions) {
    if (h.failed)
      h.failed(op, RdKafka::err2str(err), partitions);
  }

  /// Pauses or resumes `parts`; reports the call's error or the partitions' own ones.
  bool pause_resume(bool pause, partition_list& parts) {
    auto err = pause ? handle->pause(parts) : handle->resume(parts);
    bool whole = err != RdKafka::ERR_NO_ERROR;
    if (!whole)
      err = first_partition_error(parts);
    if (err == RdKafka::ERR_NO_ERROR)
      return true;
    report(pause ? "pause" : "resume", err, describe(parts, !whole));
    return false;
  }

  bool pause_resume_all(bool pause) {
    partition_list assigned;
    if (auto err = handle->assignment(assigned); err != RdKafka::ERR_NO_ERROR) {
      report(pause ? "pause" : "resume", err, "(assignment unknown)");
      return false;
    }
    bool ok = pause_resume(pause, assigned);
    RdKafka::TopicPartition::destroy(assigned);
    return ok;
  }

  /// assign() or, under a cooperative protocol, incremental_assign(): its error.
  RdKafka::ErrorCode assign(RdKafka::KafkaConsumer* consumer, partition_list& partitions) {
    if (consumer->rebalance_protocol() != "COOPERATIVE")
      return consumer->assign(partitions);
    return take_error(consumer->incremental_assign(partitions));
  }

  RdKafka::ErrorCode unassign(RdKafka::KafkaConsumer* consumer, partition_list& partitions) {
    if (consumer->rebalance_protocol() != "COOPERATIVE")
      return consumer->unassign();
    return take_error(consumer->incremental_unassign(partitions));
  }

  static RdKafka::ErrorCode take_error(RdKafka::Error* e) {
    if (!e)
      return RdKafka::ERR_NO_ERROR;
    auto code = e->code();
    delete e;
    return code;
  }

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    partition_list& partitions) override {
    auto plain = to_plain(partitions);
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      bool paused = h.assigned ? h.assigned(plain) : false;
      auto e = assign(consumer, partitions);
      assignment_ok = e == RdKafka::ERR_NO_ERROR;
      if (!assignment_ok) {
        report("assign", e, describe(partitions));
        return;
      }
      if (paused)
        pause_resume(true, partitions); // a failure: the owner's next pause_all() retries
    } else {
      if (h.revoked)
        h.revoked(plain, consumer->assignment_lost());
      // Refused: librdkafka may go on fetching partitions the owner no longer tracks; it
      // skips their messages and the group's next owner reads them.
      if (auto e = unassign(consumer, partitions); e != RdKafka::ERR_NO_ERROR)
        report("unassign", e, describe(partitions));
    }
  }

  void event_cb(RdKafka::Event& e) override {
    if (!h.log)
      return;
    switch (e.type()) {
      case RdKafka::Event::EVENT_ERROR:
        h.log(e.fatal() ? log_severity::error : log_severity::warning, RdKafka::err2str(e.err()),
              e.str());
        break;
      case RdKafka::Event::EVENT_LOG:
        // A failed connection comes as an error event too: say it once.
        if (e.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING && e.fac() != "FAIL")
          h.log(log_severity::warning, e.fac(), e.str());
        break;
      default:
        break;
    }
  }
};

consumer_client::consumer_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

consumer_client::~consumer_client() = default;

std::unique_ptr<consumer_client> consumer_client::create(const consumer_client_settings& s,
                                                         handlers h, std::string& error) {
  auto p = std::make_unique<impl>();
  p->h = std::move(h);
  auto conf = make_conf(s.brokers, s.client_id,
                        {
                          {"group.id", s.group_id},
                          // Offsets are ours to commit, only once the work before them is
                          // durable.
                          {"enable.auto.commit", "false"},
                          {"enable.auto.offset.store", "false"},
                          {"auto.offset.reset", "earliest"},
                          {"session.timeout.ms", std::to_string(s.session_timeout.count())},
                        },
                        s.extra, error);
  if (!conf)
    return nullptr;
  if (!s.instance_id.empty()
      && conf->set("group.instance.id", s.instance_id, error) != RdKafka::Conf::CONF_OK)
    return nullptr;
  if (s.cooperative
      && conf->set("partition.assignment.strategy", "cooperative-sticky", error)
           != RdKafka::Conf::CONF_OK)
    return nullptr;
  if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(p.get()), error)
        != RdKafka::Conf::CONF_OK
      || conf->set("event_cb", static_cast<RdKafka::EventCb*>(p.get()), error)
           != RdKafka::Conf::CONF_OK)
    return nullptr;
  p->handle.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!p->handle)
    return nullptr;
  if (!s.topics.empty())
    if (auto err = p->handle->subscribe(s.topics); err != RdKafka::ERR_NO_ERROR) {
      error = RdKafka::err2str(err);
      return nullptr;
    }
  return std::unique_ptr<consumer_client>{new consumer_client{std::move(p)}};
}

consume_result consumer_client::consume(std::chrono::milliseconds timeout) {
  consume_result r;
  std::unique_ptr<RdKafka::Message> m{impl_->handle->consume(static_cast<int>(timeout.count()))};
  if (!m || m->err() == RdKafka::ERR__TIMED_OUT)
    return r;
  if (m->err() == RdKafka::ERR__PARTITION_EOF) {
    r.what = consume_result::partition_eof;
    r.msg.topic = m->topic_name(); // which partition reached its end, at what offset
    r.msg.partition = m->partition();
    r.msg.offset = m->offset();
    return r;
  }
  if (m->err() != RdKafka::ERR_NO_ERROR) {
    r.what = consume_result::failed;
    r.error = RdKafka::err2str(m->err()) + ": " + m->errstr();
    return r;
  }
  r.what = consume_result::message;
  auto& out = r.msg;
  out.topic = m->topic_name();
  out.partition = m->partition();
  out.offset = m->offset();
  if (m->key())
    out.key = *m->key();
  out.value.assign(static_cast<const char*>(m->payload()), m->len());
  if (auto* hs = m->headers())
    for (const auto& hd : hs->get_all())
      out.headers.push_back(
        {hd.key(), std::string{static_cast<const char*>(hd.value()), hd.value_size()}});
  return r;
}

std::optional<std::string> consumer_client::commit(std::vector<topic_partition>& offsets) {
  partition_list list;
  list.reserve(offsets.size());
  for (const auto& tp : offsets)
    list.push_back(RdKafka::TopicPartition::create(tp.topic, tp.partition, tp.offset));
  auto err = impl_->handle->commitSync(list);
  for (std::size_t i = 0; i < offsets.size(); ++i)
    offsets[i].ok = err == RdKafka::ERR_NO_ERROR && list[i]->err() == RdKafka::ERR_NO_ERROR;
  RdKafka::TopicPartition::destroy(list);
  if (err != RdKafka::ERR_NO_ERROR)
    return RdKafka::err2str(err);
  return std::nullopt;
}

namespace {

partition_list to_list(const std::vector<topic_partition>& parts) {
  partition_list list;
  list.reserve(parts.size());
  for (const auto& tp : parts)
    list.push_back(RdKafka::TopicPartition::create(tp.topic, tp.partition, tp.offset));
  return list;
}

} // namespace

bool consumer_client::add(const std::vector<topic_partition>& partitions, bool paused) {
  auto list = to_list(partitions);
  auto e = impl::take_error(impl_->handle->incremental_assign(list));
  bool ok = e == RdKafka::ERR_NO_ERROR;
  // Refused: owned shards would go unread. assignment_ok() turns false, so the owner
  // makes a new client (and joins again) instead of holding shards it does not read.
  impl_->assignment_ok = impl_->assignment_ok && ok;
  if (!ok)
    impl_->report("assign", e, describe(list));
  else if (paused)
    impl_->pause_resume(true, list); // a failure: the owner's next pause_all() retries
  RdKafka::TopicPartition::destroy(list);
  return ok;
}

bool consumer_client::remove(const std::vector<topic_partition>& partitions) {
  auto list = to_list(partitions);
  auto e = impl::take_error(impl_->handle->incremental_unassign(list));
  if (e != RdKafka::ERR_NO_ERROR)
    impl_->report("unassign", e, describe(list));
  RdKafka::TopicPartition::destroy(list);
  return e == RdKafka::ERR_NO_ERROR;
}

std::optional<int> consumer_client::partition_count(const std::string& topic,
                                                    std::chrono::milliseconds timeout,
                                                    std::string& error) {
  std::string create_error;
  std::unique_ptr<RdKafka::Topic> t{
    RdKafka::Topic::create(impl_->handle.get(), topic, nullptr, create_error)};
  if (!t) {
    error = create_error;
    return std::nullopt;
  }
  RdKafka::Metadata* raw = nullptr;
  auto err = impl_->handle->metadata(false, t.get(), &raw, static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> md{raw};
  if (err != RdKafka::ERR_NO_ERROR) {
    error = RdKafka::err2str(err);
    return std::nullopt;
  }
  for (const auto* tm : *md->topics())
    if (tm->topic() == topic) {
      if (tm->err() != RdKafka::ERR_NO_ERROR || tm->partitions()->empty()) {
        error = RdKafka::err2str(tm->err());
        return std::nullopt;
      }
      return static_cast<int>(tm->partitions()->size());
    }
  error = "topic not in the metadata";
  return std::nullopt;
}

bool consumer_client::pause_all() {
  return impl_->pause_resume_all(true);
}

bool consumer_client::resume_all() {
  return impl_->pause_resume_all(false);
}

bool consumer_client::assignment_ok() const {
  return impl_->assignment_ok;
}

std::optional<std::int64_t> consumer_client::high_watermark(const std::string& topic,
                                                            std::int32_t partition) {
  std::int64_t low = RdKafka::Topic::OFFSET_INVALID;
  std::int64_t high = RdKafka::Topic::OFFSET_INVALID;
  if (impl_->handle->get_watermark_offsets(topic, partition, &low, &high) != RdKafka::ERR_NO_ERROR
      || high == RdKafka::Topic::OFFSET_INVALID)
    return std::nullopt;
  return high;
}

void consumer_client::close() {
  partition_list assigned;
  impl_->handle->assignment(assigned);
  auto partitions = describe(assigned);
  RdKafka::TopicPartition::destroy(assigned);
  if (auto err = impl_->handle->close(); err != RdKafka::ERR_NO_ERROR)
    impl_->report("close", err, partitions);
}

} // namespace flashsale::kafka
