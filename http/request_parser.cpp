#include "http/request_parser.hpp"

#include <memory>
#include <optional>

namespace flashsale::http {

namespace Ph = Pistache::Http;
namespace Pr = Pistache::Http::Private;

/// Runs one of Pistache's steps and turns what would become Pistache's own answer (an
/// exception, a buffer overflow to come) into a failure for our handler.
class request_parser::guarded_step final : public Pr::Step {
public:
  guarded_step(Ph::Message* message, std::unique_ptr<Pr::Step> inner, request_parser* owner)
    : Pr::Step(message), inner_(std::move(inner)), owner_(owner) {}

  Pr::StepId id() const override { return inner_->id(); }

  Pr::State apply(Pistache::StreamCursor& cursor) override {
    if (owner_->draining()) // the handler ignores this "request"; reset() drops the bytes
      return Pr::State::Done;
    const auto& conn = owner_->conn_;
    if (conn && id() == Pr::RequestLineStep::Id && cursor.buf->endptr() > cursor.buf->curptr())
      conn->request_started();
    if (id() == Pr::RequestLineStep::Id) {
      if (auto state = foreign_method(cursor))
        return *state;
    }
    try {
      auto state = check(inner_->apply(cursor), cursor);
      if (conn && id() == Pr::HeadersStep::Id && state == Pr::State::Next)
        conn->head_done();
      return state;
    } catch (const Ph::HttpError& e) {
      return fail(e.code() == 413 ? 413 : 400, std::string{"malformed HTTP request: "} + e.what());
    } catch (const std::exception&) {
      return fail(400, "malformed HTTP request");
    }
  }

private:
  /// A method Pistache would refuse with an exception (QUERY, BREW): waits for the whole
  /// request line, then hands the handler its method and target to answer 405 or 404.
  std::optional<Pr::State> foreign_method(const Pistache::StreamCursor& cursor) {
    using found = foreign_method_line::state;
    auto line = scan_foreign_method({cursor.offset(), cursor.remaining()});
    if (line.found == found::none)
      return std::nullopt;
    if (line.found == found::incomplete) {
      if (cursor.remaining() > owner_->limits_.max_head_bytes)
        return fail(400, "request header section is over "
                           + std::to_string(owner_->limits_.max_head_bytes / 1024) + " KiB");
      return Pr::State::Again;
    }
    owner_->failure_ = {405, "method not allowed on this route", std::string{line.method},
                        std::string{line.target}};
    return Pr::State::Done;
  }

  Pr::State check(Pr::State state, const Pistache::StreamCursor& cursor) {
    const auto& limits = owner_->limits_;
    auto buffered = static_cast<std::size_t>(cursor.buf->endptr() - cursor.buf->begptr());
    bool head = id() == Pr::RequestLineStep::Id || id() == Pr::HeadersStep::Id;
    // Incomplete, the head is at least what is buffered; complete, it is what was read.
    bool head_too_long = state == Pr::State::Again ? buffered > limits.max_head_bytes
                                                   : static_cast<std::size_t>(cursor)
                                                       > limits.max_head_bytes;
    if (head && head_too_long)
      return fail(400, "request header section is over "
                         + std::to_string(limits.max_head_bytes / 1024) + " KiB");
    if (id() == Pr::HeadersStep::Id && state == Pr::State::Next) {
      auto length = message->headers().tryGet<Ph::Header::ContentLength>();
      if (length && length->value() > limits.max_body_bytes)
        return too_large();
    }
    if (id() == Pr::BodyStep::Id && state == Pr::State::Again
        && buffered > limits.max_head_bytes + limits.max_body_bytes + limits.max_chunk_overhead)
      return too_large();
    return state;
  }

  Pr::State too_large() {
    return fail(413, "request body is over "
                       + std::to_string(owner_->limits_.max_body_bytes / 1024) + " KiB");
  }

  Pr::State fail(int status, std::string message) {
    owner_->failure_ = {status, std::move(message), {}, {}};
    return Pr::State::Done;
  }

  std::unique_ptr<Pr::Step> inner_;
  request_parser* owner_;
};

request_parser::request_parser(parser_limits limits, std::shared_ptr<conn_state> conn)
  : Ph::RequestParser(buffer_size(limits)), limits_(limits), conn_(std::move(conn)) {
  for (auto& step : allSteps)
    step = std::make_unique<guarded_step>(&request, std::move(step), this);
}

void request_parser::reset() {
  Ph::RequestParser::reset();
  failure_ = {};
}

std::size_t request_parser::buffer_size(const parser_limits& limits) {
  constexpr std::size_t one_read = Pistache::Const::MaxBuffer;
  return limits.max_head_bytes + limits.max_body_bytes + limits.max_chunk_overhead + one_read;
}

} // namespace flashsale::http
