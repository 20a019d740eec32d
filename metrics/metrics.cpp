#include "metrics/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace flashsale {

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string label_text(const metric_labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels)
    out += (out.empty() ? "" : ",") + k + "=\"" + escape_label(v) + "\"";
  return out;
}

std::string with_braces(const std::string& labels) {
  return labels.empty() ? "" : "{" + labels + "}";
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

} // namespace

histogram::histogram(std::vector<double> upper_bounds)
  : bounds_(std::move(upper_bounds)),
    buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i] = 0;
}

void histogram::observe(double value) {
  auto i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  auto micros = static_cast<std::uint64_t>(std::max(0.0, value) * 1e6);
  sum_micros_.fetch_add(micros, std::memory_order_relaxed);
}

double histogram::quantile(double q) const {
  auto total = count();
  if (total == 0)
    return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank)
      return bounds_[i];
  }
  return bounds_.empty() ? 0 : bounds_.back();
}

void histogram::render(std::string& out, const std::string& name,
                       const std::string& labels) const {
  std::uint64_t cumulative = 0;
  auto sep = labels.empty() ? "" : ",";
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    auto le = i < bounds_.size() ? number(bounds_[i]) : std::string{"+Inf"};
    out += name + "_bucket{" + labels + sep + "le=\"" + le + "\"} " + std::to_string(cumulative)
           + "\n";
  }
  out += name + "_sum" + with_braces(labels) + " "
         + number(static_cast<double>(sum_micros_.load()) / 1e6) + "\n";
  out += name + "_count" + with_braces(labels) + " " + std::to_string(count()) + "\n";
}

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

metrics_registry::family& metrics_registry::family_for(const std::string& name,
                                                       const std::string& help,
                                                       const char* type) {
  auto& f = families_[name];
  if (f.type.empty()) {
    f.help = help;
    f.type = type;
  }
  return f;
}

counter& metrics_registry::get_counter(const std::string& name, const std::string& help,
                                       const metric_labels& labels) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = family_for(name, help, "counter").counters[label_text(labels)];
  if (!slot)
    slot = std::make_unique<counter>();
  return *slot;
}

histogram& metrics_registry::get_histogram(const std::string& name, const std::string& help,
                                           const metric_labels& labels,
                                           std::vector<double> bounds) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = family_for(name, help, "histogram").histograms[label_text(labels)];
  if (!slot)
    slot = std::make_unique<histogram>(std::move(bounds));
  return *slot;
}

void metrics_registry::add_gauge(const std::string& name, const std::string& help,
                                 std::function<double()> read, const metric_labels& labels) {
  std::lock_guard<std::mutex> guard{mtx_};
  family_for(name, help, "gauge").gauges[label_text(labels)] = std::move(read);
}

std::string metrics_registry::render() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, c] : f.counters)
      out += name + with_braces(labels) + " " + std::to_string(c->value()) + "\n";
    for (const auto& [labels, g] : f.gauges)
      out += name + with_braces(labels) + " " + number(g()) + "\n";
    for (const auto& [labels, h] : f.histograms)
      h->render(out, name, labels);
  }
  return out;
}

} // namespace flashsale
