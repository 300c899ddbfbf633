// The decode-step driver: flattens every request's estimate items, selection rows and attention
// chunks into three parallel loops over the pool, and merges split attention partials.
#include "adamas/decode.h"

#include <algorithm>
#include <chrono>

#include "adamas/error.h"
#include "adamas/method.h"
#include "cpu/kernels.h"

namespace adamas {

namespace {

constexpr int64_t kAttendChunk = 2048;  // tokens per attention item: enough items to balance threads

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Maps a flat item number to (request, item within it) through prefix sums.
size_t owner_of(const std::vector<int64_t>& starts, int64_t item) {
    return size_t(std::upper_bound(starts.begin(), starts.end(), item) - starts.begin() - 1);
}

}  // namespace

DecodeAttention::DecodeAttention(const PolicyConfig& config, int q_heads, ThreadPool& pool)
    : config_(config), q_heads_(q_heads), pool_(pool) {
    config_.validate();
    if (q_heads < 1) fail("decode: {} query heads (expected at least 1)", q_heads);
}

DecodeAttention::~DecodeAttention() = default;

void DecodeAttention::run(std::span<const DecodeRequest> requests, DecodeTimings* timings) {
    while (slots_.size() < requests.size()) {
        Slot slot;
        slot.policy = make_policy(config_);
        slot.selection = std::make_unique<Selection>();
        const size_t index = slots_.size();
        slot.policy->bind(*slot.selection,
                          [this, index](int row, int thread) { attend_row(index, row, thread); });
        slots_.push_back(std::move(slot));
    }
    const int threads = pool_.size();
    int max_d = 0;
    for (const DecodeRequest& req : requests)
        max_d = std::max(max_d, req.kv.head_dim);
    // Per-thread partials for rows attended inside estimate (fused policies).
    // Two per query: its selected tokens and its sampled tail.
    row_partials_.resize(size_t(threads) * size_t(q_heads_) * 2);
    row_acc_.resize(row_partials_.size() * size_t(max_d));
    for (size_t i = 0; i < row_partials_.size(); ++i)
        row_partials_[i].acc = row_acc_.data() + i * size_t(max_d);
    // Preparing (query codes, buffer sizing) counts as estimate time: it is part of the step.
    auto start = std::chrono::steady_clock::now();
    std::vector<int64_t>& estimate_starts = estimate_starts_;
    std::vector<int64_t>& select_starts = select_starts_;
    estimate_starts.clear();
    select_starts.clear();
    int64_t estimate_items = 0, select_rows = 0;
    for (size_t r = 0; r < requests.size(); ++r) {
        const DecodeRequest& req = requests[r];
        const int kv_heads = req.kv.kv_heads();
        if (kv_heads < 1 || q_heads_ % kv_heads != 0)
            fail("decode: {} query heads are not a multiple of {} KV heads", q_heads_, kv_heads);
        check_head_dim(req.kv.head_dim, "decode");
        if (config_.kind == PolicyKind::adamas && config_.metric == Metric::xor_weighted &&
            req.kv.code_bits == 3)
            fail_usage("decode: the xor metric is defined for 2-bit codes; 3-bit codes take l1");
        if (req.kv.tokens < 1)
            fail("decode: sequence {} has no cached tokens (the current token must be appended)", r);
        Slot& slot = slots_[r];
        slot.step = StepInputs{req.q, q_heads_, req.kv};
        slot.request = &req;
        estimate_starts.push_back(estimate_items);
        estimate_items += slot.policy->prepare(slot.step, *slot.selection, threads);
        select_starts.push_back(select_rows);
        // Policies that attend inside estimate have selected there too: no select job for them.
        select_rows +=
            slot.selection->all_tokens || slot.policy->attends_in_estimate() ? 0 : slot.selection->rows;
    }
    pool_.parallel_for(estimate_items, [&](int64_t item, int thread) {
        const size_t r = owner_of(estimate_starts, item);
        slots_[r].policy->estimate(slots_[r].step, item - estimate_starts[r], thread);
    });
    // Policies that select (and attend) inside estimate report the shares of their items spent so;
    // that part of the estimate wall time is charged to select (and attend).
    double estimate_s = seconds_since(start), moved_to_select = 0, moved_to_attend = 0;
    if (estimate_items > 0) {
        for (size_t r = 0; r < requests.size(); ++r) {
            const SelectionPolicy::FusedShares shares = slots_[r].policy->fused_shares();
            moved_to_select += estimate_s * shares.select / double(requests.size());
            moved_to_attend += estimate_s * shares.attend / double(requests.size());
        }
        estimate_s -= moved_to_select + moved_to_attend;
    }
    start = std::chrono::steady_clock::now();
    pool_.parallel_for(select_rows, [&](int64_t item, int thread) {
        const size_t r = owner_of(select_starts, item);
        slots_[r].policy->select(slots_[r].step, int(item - select_starts[r]), thread, *slots_[r].selection);
    });
    const double select_s = seconds_since(start) + moved_to_select;
    start = std::chrono::steady_clock::now();
    attend_all(requests);
    if (timings) {
        timings->estimate_s += estimate_s;
        timings->select_s += select_s;
        timings->attend_s += seconds_since(start) + moved_to_attend;
    }
}

void DecodeAttention::attend_row(size_t slot_index, int row, int thread) {
    const Slot& slot = slots_[slot_index];
    const DecodeRequest& req = *slot.request;
    const Selection& sel = *slot.selection;
    const int d = req.kv.head_dim, g = q_heads_ / req.kv.kv_heads();
    const int kv_head = sel.per_kv_head ? row : row / g;
    const int first_q = sel.per_kv_head ? row * g : row;
    const int queries = sel.per_kv_head ? g : 1;
    const float* q = req.q + int64_t(first_q) * d;
    const auto indices = sel.row(row), tail = sel.tail(row);
    const auto tail_weights = sel.tail_log_weights(row);
    AttentionPartial* partials = row_partials_.data() + size_t(thread) * size_t(q_heads_) * 2;
    AttentionPartial* tail_partials = partials + queries;
    attend_partial(q, queries, req.kv.heads[size_t(kv_head)], req.kv.dtype, d,
                   TokenSet{indices.data(), 0, int64_t(indices.size())}, partials);
    if (!tail.empty()) {
        attend_partial(q, queries, req.kv.heads[size_t(kv_head)], req.kv.dtype, d,
                       TokenSet{tail.data(), 0, int64_t(tail.size()), tail_weights.data()}, tail_partials);
    }
    for (int i = 0; i < queries; ++i) {
        float* out = req.out + int64_t(first_q + i) * d;
        if (tail.empty()) {  // the tail's partials were not written
            merge_partials(partials + i, 1, d, out);
            continue;
        }
        const AttentionPartial parts[2] = {partials[i], tail_partials[i]};
        merge_partials(parts, 2, d, out);
    }
}

void DecodeAttention::attend_all(std::span<const DecodeRequest> requests) {
    // Items: (request, row, chunk). A row is a query head, or a KV head with its whole group.
    std::vector<AttendItem>& items = attend_items_;
    items.clear();
    int64_t partial_count = 0;
    int max_d = 0;
    for (size_t r = 0; r < requests.size(); ++r) {
        if (slots_[r].policy->attends_in_estimate()) continue;  // done row by row in estimate
        const Selection& sel = *slots_[r].selection;
        const int queries = sel.per_kv_head ? q_heads_ / requests[r].kv.kv_heads() : 1;
        max_d = std::max(max_d, requests[r].kv.head_dim);
        for (int row = 0; row < sel.rows; ++row) {
            const int64_t size = sel.counts[size_t(row)];
            for (int64_t b = 0; b < std::max<int64_t>(size, 1); b += kAttendChunk) {
                items.push_back({uint32_t(r), row, b, std::min(size, b + kAttendChunk), partial_count});
                partial_count += queries;
            }
            // The sampled tail follows the row's tokens in its index list: one more item, weighted.
            const int64_t tail = int64_t(sel.tail(row).size());
            if (tail > 0) {
                items.push_back({uint32_t(r), row, size, size + tail, partial_count, true});
                partial_count += queries;
            }
        }
    }
    partials_.resize(size_t(partial_count));
    partial_acc_.resize(size_t(partial_count * max_d));
    for (int64_t p = 0; p < partial_count; ++p)
        partials_[size_t(p)].acc = partial_acc_.data() + p * max_d;

    pool_.parallel_for(int64_t(items.size()), [&](int64_t i, int) {
        const AttendItem& it = items[size_t(i)];
        const DecodeRequest& req = requests[it.request];
        const Selection& sel = *slots_[it.request].selection;
        const int d = req.kv.head_dim, g = q_heads_ / req.kv.kv_heads();
        const int kv_head = sel.per_kv_head ? it.row : it.row / g;
        const int first_q = sel.per_kv_head ? it.row * g : it.row;
        const int queries = sel.per_kv_head ? g : 1;
        TokenSet tokens;
        if (sel.all_tokens) {
            tokens = TokenSet{nullptr, it.begin, it.end};
        } else {
            const int64_t at = it.row * sel.row_capacity + it.begin;
            tokens = TokenSet{sel.indices.data() + at, 0, it.end - it.begin,
                              it.tail ? sel.log_weights.data() + at : nullptr};
        }
        attend_partial(req.q + int64_t(first_q) * d, queries, req.kv.heads[size_t(kv_head)], req.kv.dtype, d,
                       tokens, partials_.data() + it.partial);
    });

    // Merge: the items of one row are consecutive, so each row's chunks sit side by side.
    size_t i = 0;
    while (i < items.size()) {
        size_t j = i;
        while (j < items.size() && items[j].request == items[i].request && items[j].row == items[i].row)
            ++j;
        const DecodeRequest& req = requests[items[i].request];
        const Selection& sel = *slots_[items[i].request].selection;
        const int d = req.kv.head_dim, g = q_heads_ / req.kv.kv_heads();
        const int queries = sel.per_kv_head ? g : 1;
        const int first_q = sel.per_kv_head ? items[i].row * g : items[i].row;
        std::vector<AttentionPartial>& parts = merge_parts_;
        parts.resize(j - i);
        for (int q = 0; q < queries; ++q) {
            for (size_t c = i; c < j; ++c)
                parts[c - i] = partials_[size_t(items[c].partial + q)];
            merge_partials(parts.data(), int(j - i), d, req.out + int64_t(first_q + q) * d);
        }
        i = j;
    }
}

}  // namespace adamas
