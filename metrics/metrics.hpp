#pragma once
// A small Prometheus registry: counters, gauges read on scrape, and histograms.
// Thread safe; no I/O (render() returns the text exposition format).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace flashsale {

using metric_labels = std::vector<std::pair<std::string, std::string>>;

class counter {
public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

class histogram {
public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double value);
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  /// The value below which `q` (0..1) of the observations fall, estimated from buckets.
  double quantile(double q) const;
  void render(std::string& out, const std::string& name, const std::string& labels) const;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

/// Latency buckets in seconds, 0.5 ms to 10 s.
std::vector<double> latency_buckets();

class metrics_registry {
public:
  counter& get_counter(const std::string& name, const std::string& help,
                       const metric_labels& labels = {});
  histogram& get_histogram(const std::string& name, const std::string& help,
                           const metric_labels& labels = {},
                           std::vector<double> bounds = latency_buckets());
  /// A gauge whose value is read when scraped.
  void add_gauge(const std::string& name, const std::string& help,
                 std::function<double()> read, const metric_labels& labels = {});
  std::string render() const;

private:
  struct family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<counter>> counters;
    std::map<std::string, std::unique_ptr<histogram>> histograms;
    std::map<std::string, std::function<double()>> gauges;
  };
  family& family_for(const std::string& name, const std::string& help, const char* type);

  mutable std::mutex mtx_;
  std::map<std::string, family> families_;
};

} // namespace flashsale
