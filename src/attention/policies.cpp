// The five selection policies. Each sizes its buffers in prepare(), does its bandwidth-bound pass in
// estimate() over (KV head, token chunk) items, and picks each row's tokens in select().
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>

#include "adamas/codes.h"
#include "adamas/distance.h"
#include "adamas/error.h"
#include "adamas/policy.h"
#include "cpu/kernels.h"

namespace adamas {

namespace {

constexpr int64_t kEstimateChunk = 8192;  // tokens per estimate item: a multiple of every vector group
static_assert(kEstimateChunk % kDistanceBlock == 0);
constexpr int64_t kPageChunk = 512;  // Quest pages per estimate item

int64_t chunks(int64_t n, int64_t chunk) {
    return (n + chunk - 1) / chunk;
}

void size_selection(Selection& s, bool per_kv_head, int rows, int64_t capacity) {
    s.all_tokens = false;
    s.per_kv_head = per_kv_head;
    s.rows = rows;
    s.row_capacity = capacity;
    if (s.indices.size() < size_t(rows * capacity)) s.indices.resize(size_t(rows * capacity));
    s.counts.assign(size_t(rows), 0);
}

// Every token fits the budget: the step is dense (no estimate, each K/V row read once per group).
int64_t select_all(const StepInputs& step, Selection& s) {
    s.all_tokens = true;
    s.per_kv_head = true;
    s.rows = step.kv.kv_heads();
    s.row_capacity = 0;
    s.counts.assign(size_t(s.rows), step.kv.tokens);
    return 0;
}

// A sampled tail drawn by exact score (the oracle's, or adamas's re-ranked candidates): a token's class
// is its logit's distance below the row's best logit in steps of 1/kClassesPerLogit, and class c is
// drawn in proportion to exp(-β·c/kClassesPerLogit), i.e. to exp(β·logit).
constexpr int kClasses = 4096;
constexpr float kClassesPerLogit = 16;

std::vector<float> logit_class_table(float beta) {
    std::vector<float> table;
    for (int c = 0; c < kClasses; ++c)
        table.push_back(std::max(1e-30f, std::exp(-beta * float(c) / kClassesPerLogit)));
    return table;
}

// The class of a raw score q·k (NaN: the last) below the row's best raw score, at head dim d.
uint16_t logit_class(float best, float score, int d) {
    const float c = (best - score) * (kClassesPerLogit / std::sqrt(float(d)));
    return uint16_t(std::isnan(c) ? kClasses - 1 : std::min(float(kClasses - 1), c + 0.5f));
}

SelectionRule rule_of(const PolicyConfig& c) {
    return SelectionRule{c.budget, c.effective_sinks(), c.effective_recent(), c.force_current};
}

class DensePolicy final : public SelectionPolicy {
  public:
    explicit DensePolicy(const PolicyConfig& c) : SelectionPolicy(c) {}
    int64_t prepare_step(const StepInputs& step, Selection& s, int) override { return select_all(step, s); }
    void select(const StepInputs&, int, int, Selection&) override {}
};

class StreamingPolicy final : public SelectionPolicy {
  public:
    explicit StreamingPolicy(const PolicyConfig& c) : SelectionPolicy(c) {}
    int64_t prepare_step(const StepInputs& step, Selection& s, int) override {
        if (step.kv.tokens <= config_.budget) return select_all(step, s);
        // Every head keeps the same set, so rows are KV heads: K/V rows are read once per group.
        size_selection(s, true, step.kv.kv_heads(), std::min<int64_t>(config_.budget, step.kv.tokens));
        return 0;
    }
    void select(const StepInputs& step, int row, int, Selection& s) override {
        const int64_t n = step.kv.tokens, budget = config_.budget;
        int32_t* out = s.indices.data() + row * s.row_capacity;
        int64_t k = 0;
        if (n <= budget) {
            for (int64_t t = 0; t < n; ++t)
                out[k++] = int32_t(t);
        } else {
            const int64_t sinks = config_.effective_sinks();
            for (int64_t t = 0; t < sinks; ++t)
                out[k++] = int32_t(t);
            for (int64_t t = n - (budget - sinks); t < n; ++t)
                out[k++] = int32_t(t);
        }
        s.counts[size_t(row)] = k;
        draw_tail(step, row, s);
    }
};

// Shared parts of the policies that rank every token: per-thread scratch and row bookkeeping.
class RankingPolicy : public SelectionPolicy {
  protected:
    explicit RankingPolicy(const PolicyConfig& c) : SelectionPolicy(c) {}
    bool shared() const { return config_.gqa == GqaMode::shared; }
    int rows(const StepInputs& step) const { return shared() ? step.kv.kv_heads() : step.q_heads; }
    void size_scratch(int threads) {
        if (scratch_.size() < size_t(threads)) scratch_.resize(size_t(threads));
    }
    std::vector<SelectScratch> scratch_;
};

class AdamasPolicy final : public RankingPolicy {
  public:
    explicit AdamasPolicy(const PolicyConfig& c) : RankingPolicy(c) {}
    int64_t prepare_step(const StepInputs& step, Selection& s, int threads) override {
        if (step.kv.tokens <= config_.budget) return select_all(step, s);
        const int d = step.kv.head_dim, words = code_words(d, step.kv.code_bits), g = step.group();
        query_codes_.resize(size_t(step.q_heads * words));
        stride_ = step.kv.tokens;
        block_stride_ = distance_blocks(stride_);
        size_selection(s, shared(), rows(step), std::min<int64_t>(config_.budget, step.kv.tokens));
        size_scratch(threads);
        if (rerank_scratch_.size() < size_t(threads)) rerank_scratch_.resize(size_t(threads));
        // Enough KV heads to keep every thread busy: one item per head estimates and then selects its
        // rows at once, while the head's distances are still in this core's cache. They never go out
        // to memory (1/16 of the code traffic saved) and selection reads them from L2, not DRAM.
        // Too few KV heads but enough query rows (GQA per head, e.g. 3 KV heads and 9 queries on 2
        // threads): one item per row instead, each reading its head's codes (from cache after the
        // first of the group), so the threads stay balanced and no phase waits for another.
        if (step.kv.kv_heads() >= 2 * threads) {
            fusion_ = Fusion::per_kv_head;
        } else if (!shared() && g > 1 && step.q_heads >= 2 * threads) {
            fusion_ = Fusion::per_row;
        } else {
            fusion_ = Fusion::none;
        }
        const bool fused = fusion_ != Fusion::none;
        // The tail's proposal: exp(-β·distance) for every distance a row can have.
        // With re-ranking, by exact score: the candidates' own, the median left-out candidate's for the
        // other tokens (as far from the query by code as the farthest candidates, or farther).
        tail_table_.clear();
        if (tail_ > 0 && requested_.tail_beta > 0 && reranks(step)) {
            tail_table_ = logit_class_table(requested_.tail_beta);
        } else if (tail_ > 0 && requested_.tail_beta > 0) {
            for (int dist = 0; dist <= max_distance(d, step.kv.code_bits); ++dist)
                tail_table_.push_back(std::max(1e-30f, std::exp(-requested_.tail_beta * float(dist))));
        }
        if (!fused)  // fused items encode their own queries, in parallel
            encode_queries(step, 0, step.q_heads);
        const int item_rows = fusion_ == Fusion::per_row ? 1 : (shared() ? 1 : g);
        const size_t buffers = fused ? size_t(threads) : 1;
        const size_t dist_size = size_t(fused ? item_rows : rows(step)) * size_t(stride_);
        const size_t minima_size = size_t(fused ? item_rows : rows(step)) * size_t(block_stride_);
        if (distances_.size() < buffers) {
            distances_.resize(buffers);
            block_minima_.resize(buffers);
        }
        for (size_t b = 0; b < buffers; ++b) {
            if (distances_[b].size() < dist_size) distances_[b].resize(dist_size);
            if (block_minima_[b].size() < minima_size) block_minima_[b].resize(minima_size);
        }
        fused_select_s_.assign(size_t(threads), 0.0);
        fused_attend_s_.assign(size_t(threads), 0.0);
        fused_item_s_.assign(size_t(threads), 0.0);
        if (fusion_ == Fusion::per_kv_head) return step.kv.kv_heads();
        if (fusion_ == Fusion::per_row) return step.q_heads;
        return step.kv.kv_heads() * chunks(step.kv.tokens, kEstimateChunk);
    }
    void estimate(const StepInputs& step, int64_t item, int thread) override {
        const int d = step.kv.head_dim, words = code_words(d, step.kv.code_bits), g = step.group();
        if (fusion_ != Fusion::none) return estimate_and_select(step, int(item), thread, *selection_);
        const int64_t per_head = chunks(step.kv.tokens, kEstimateChunk);
        const int h = int(item / per_head);
        const int64_t begin = (item % per_head) * kEstimateChunk;
        const int64_t end = std::min(step.kv.tokens, begin + kEstimateChunk);
        const CodeRows keys{step.kv.heads[size_t(h)].codes + begin * words, end - begin, words,
                            step.kv.code_bits};
        const int64_t first_row = shared() ? h : h * g;
        uint16_t* out = distances_[0].data() + first_row * stride_ + begin;
        // Chunks start at multiples of kDistanceBlock, so their blocks line up with the row's.
        const BlockMinima minima{block_minima_[0].data() + first_row * block_stride_ + begin / kDistanceBlock,
                                 block_stride_};
        group_distances(query_codes_.data() + h * g * words, g, keys, config_.metric, config_.gqa, out,
                        stride_, minima);
    }
    void select(const StepInputs& step, int row, int thread, Selection& s) override {
        if (fusion_ != Fusion::none) return;  // done in estimate
        select_row(step, distances_[0].data() + row * stride_, block_minima_[0].data() + row * block_stride_,
                   row, thread, s);
    }
    void bind(Selection& s, RowReady row_ready) override {
        selection_ = &s;
        row_ready_ = std::move(row_ready);
    }
    bool attends_in_estimate() const override { return fusion_ != Fusion::none && row_ready_ != nullptr; }
    FusedShares fused_shares() const override {
        double select = 0, attend = 0, total = 0;
        for (size_t t = 0; t < fused_item_s_.size(); ++t) {
            select += fused_select_s_[t];
            attend += fused_attend_s_[t];
            total += fused_item_s_[t];
        }
        return total > 0 ? FusedShares{select / total, attend / total} : FusedShares{};
    }

  private:
    void select_row(const StepInputs& step, const uint16_t* dist, const uint16_t* minima, int row, int thread,
                    Selection& s) {
        int32_t* out = s.indices.data() + row * s.row_capacity;
        const std::span<const uint16_t> distances(dist, size_t(step.kv.tokens));
        if (!reranks(step)) {
            s.counts[size_t(row)] =
                select_by_distance(distances, max_distance(step.kv.head_dim, step.kv.code_bits),
                                   rule_of(config_), out, scratch_[size_t(thread)], minima);
            draw_tail(step, row, s, tail_table_.empty() ? TailProposal{} : TailProposal{dist, tail_table_});
            return;
        }
        const int64_t candidates = std::min(int64_t(config_.rerank) * config_.budget, step.kv.tokens);
        s.counts[size_t(row)] = rerank(step, distances, minima, candidates, row, thread, out);
        if (tail_table_.empty()) return draw_tail(step, row, s);
        const std::span<const int32_t> kept(out, size_t(s.counts[size_t(row)]));
        draw_tail(step, row, s, TailProposal{candidate_classes(step, kept, thread), tail_table_});
    }
    // Re-ranking takes the R·B nearest tokens, or every token when there are fewer (the exact top B).
    bool reranks(const StepInputs& step) const {
        return config_.rerank > 1 && step.kv.tokens > config_.budget;
    }
    // Every token's class for a tail drawn by exact score after re-ranking (see prepare_step).
    const uint16_t* candidate_classes(const StepInputs& step, std::span<const int32_t> kept, int thread) {
        RerankScratch& r = rerank_scratch_[size_t(thread)];
        const int d = step.kv.head_dim;
        const size_t count = r.tokens.size();  // the group's best scores are the first `count`
        float best = -std::numeric_limits<float>::infinity();
        for (size_t i = 0; i < count; ++i)
            if (r.scores[i] > best) best = r.scores[i];
        r.left_out.clear();
        for (size_t i = 0; i < count; ++i)
            if (!std::binary_search(kept.begin(), kept.end(), r.tokens[i]))
                r.left_out.push_back(logit_class(best, r.scores[i], d));
        uint16_t floor = kClasses - 1;
        if (!r.left_out.empty()) {
            const auto mid = r.left_out.begin() + ptrdiff_t(r.left_out.size() / 2);
            std::nth_element(r.left_out.begin(), mid, r.left_out.end());
            floor = *mid;
        }
        r.classes.assign(size_t(step.kv.tokens), floor);
        for (size_t i = 0; i < count; ++i)
            r.classes[size_t(r.tokens[i])] = logit_class(best, r.scores[i], d);
        return r.classes.data();
    }
    // The `candidates` nearest tokens by code distance (forced ones included), then the budget's best of
    // them by the exact q·k (in shared mode the group's best, as the oracle ranks). Both steps keep the
    // forced set: the candidates list is ascending, so the sinks are its first tokens and the recent
    // window its last, which is where select_by_score forces them.
    int64_t rerank(const StepInputs& step, std::span<const uint16_t> distances, const uint16_t* minima,
                   int64_t candidates, int row, int thread, int32_t* out) {
        RerankScratch& r = rerank_scratch_[size_t(thread)];
        r.tokens.resize(size_t(candidates));
        SelectionRule wide = rule_of(config_);
        wide.budget = int(candidates);
        const int64_t count = select_by_distance(distances, max_distance(step.kv.head_dim, step.kv.code_bits),
                                                 wide, r.tokens.data(), scratch_[size_t(thread)], minima);
        const int d = step.kv.head_dim, g = step.group();
        const int h = shared() ? row : row / g;  // the KV head
        const int queries = shared() ? g : 1;
        const float* q = step.q + int64_t(shared() ? row * g : row) * d;
        r.scores.resize(size_t(queries * count));
        cpu::dot_scores(q, queries, step.kv.heads[size_t(h)].k, step.kv.dtype, d, 0, count, r.scores.data(),
                        count, r.tokens.data());
        for (int j = 1; j < queries; ++j)  // the group's best, kept in the first row
            for (int64_t i = 0; i < count; ++i)
                r.scores[size_t(i)] = std::max(r.scores[size_t(i)], r.scores[size_t(j * count + i)]);
        r.chosen.resize(size_t(config_.budget));
        const int64_t kept = select_by_score({r.scores.data(), size_t(count)}, rule_of(config_),
                                             r.chosen.data(), scratch_[size_t(thread)]);
        for (int64_t i = 0; i < kept; ++i)  // positions ascend, so the tokens do too
            out[i] = r.tokens[size_t(r.chosen[size_t(i)])];
        return kept;
    }
    // Query heads [first, first + count): rotated and encoded into query_codes_.
    void encode_queries(const StepInputs& step, int first, int count) {
        const int d = step.kv.head_dim, words = code_words(d, step.kv.code_bits), g = step.group();
        for (int h = first; h < first + count; ++h)
            rotate_encode({step.q + int64_t(h) * d, size_t(d)},
                          step.kv.heads[size_t(h / g)].query_threshold(),
                          {query_codes_.data() + h * words, size_t(words)});
    }
    // One fused item: a KV head with all its rows (per_kv_head), or one query row (per_row).
    void estimate_and_select(const StepInputs& step, int item, int thread, Selection& s) {
        using Clock = std::chrono::steady_clock;
        const auto start = Clock::now();
        const int words = code_words(step.kv.head_dim, step.kv.code_bits), g = step.group();
        const bool per_row = fusion_ == Fusion::per_row;
        // Per row, items go round the KV heads (rows 0, g, 2g, ..., then 1, g+1, ...): the threads'
        // concurrent items read different heads' codes, and a head's later rows find them in cache.
        const int kv_heads = step.kv.kv_heads();
        const int row = per_row ? (item % kv_heads) * g + item / kv_heads : 0;
        const int h = per_row ? row / g : item;
        const int first_row = per_row ? row : (shared() ? h : h * g);  // selection row of the first
        const int item_rows = per_row || shared() ? 1 : g;
        encode_queries(step, per_row ? row : h * g, per_row ? 1 : g);
        uint16_t* dist = distances_[size_t(thread)].data();
        uint16_t* minima = block_minima_[size_t(thread)].data();
        const CodeRows keys{step.kv.heads[size_t(h)].codes, step.kv.tokens, words, step.kv.code_bits};
        // Per row: that query alone (per-head distances depend only on their own query).
        group_distances(query_codes_.data() + (per_row ? row : h * g) * words, per_row ? 1 : g, keys,
                        config_.metric, config_.gqa, dist, stride_, BlockMinima{minima, block_stride_});
        const auto estimated = Clock::now();
        for (int r = 0; r < item_rows; ++r)
            select_row(step, dist + r * stride_, minima + r * block_stride_, first_row + r, thread, s);
        const auto selected = Clock::now();
        // Attending here overlaps this thread's gathers with the other threads' code streaming.
        if (row_ready_)
            for (int r = 0; r < item_rows; ++r)
                row_ready_(first_row + r, thread);
        const auto done = Clock::now();
        fused_select_s_[size_t(thread)] += std::chrono::duration<double>(selected - estimated).count();
        fused_attend_s_[size_t(thread)] += std::chrono::duration<double>(done - selected).count();
        fused_item_s_[size_t(thread)] += std::chrono::duration<double>(done - start).count();
    }

    struct RerankScratch {
        std::vector<int32_t> tokens, chosen;
        std::vector<float> scores;                // the first tokens.size(): the group's best per candidate
        std::vector<uint16_t> classes, left_out;  // a tail drawn by exact score
    };
    std::vector<RerankScratch> rerank_scratch_;  // per thread
    std::vector<float> tail_table_;              // the sampled tail's proposal by distance; empty: uniform
    std::vector<uint16_t> query_codes_;
    // Distances and block minima: one buffer of every row (split phases), or one per thread holding
    // one KV head's rows (fused).
    std::vector<std::vector<uint16_t>> distances_, block_minima_;
    int64_t stride_ = 0, block_stride_ = 0;
    enum class Fusion { none, per_kv_head, per_row } fusion_ = Fusion::none;
    Selection* selection_ = nullptr;
    RowReady row_ready_;
    std::vector<double> fused_select_s_, fused_attend_s_, fused_item_s_;  // per thread, this step
};

class OraclePolicy final : public RankingPolicy {
  public:
    explicit OraclePolicy(const PolicyConfig& c) : RankingPolicy(c) {}
    int64_t prepare_step(const StepInputs& step, Selection& s, int threads) override {
        if (step.kv.tokens <= config_.budget) return select_all(step, s);
        stride_ = step.kv.tokens;
        scores_.resize(size_t(step.q_heads * stride_));
        size_selection(s, shared(), rows(step), std::min<int64_t>(config_.budget, step.kv.tokens));
        size_scratch(threads);
        // The tail's proposal (an experiment: the best any estimate of the scores could do): a token's
        // class is its exact logit's distance below the row's best in steps of 1/kClassesPerLogit, drawn
        // in proportion to exp(β·logit).
        tail_table_.clear();
        if (tail_ > 0 && requested_.tail_beta > 0) {
            tail_table_ = logit_class_table(requested_.tail_beta);
            if (classes_.size() < size_t(threads)) classes_.resize(size_t(threads));
        }
        return step.kv.kv_heads() * chunks(step.kv.tokens, kEstimateChunk);
    }
    void estimate(const StepInputs& step, int64_t item, int) override {
        const int64_t per_head = chunks(step.kv.tokens, kEstimateChunk);
        const int h = int(item / per_head), g = step.group(), d = step.kv.head_dim;
        const int64_t begin = (item % per_head) * kEstimateChunk;
        const int64_t end = std::min(step.kv.tokens, begin + kEstimateChunk);
        float* out = scores_.data() + h * g * stride_;
        cpu::dot_scores(step.q + int64_t(h) * g * d, g, step.kv.heads[size_t(h)].k, step.kv.dtype, d, begin,
                        end, out, stride_);
        if (shared())  // the group's best score, kept in the group's first row
            for (int64_t t = begin; t < end; ++t)
                for (int q = 1; q < g; ++q)
                    out[t] = max_nan_low(out[t], out[q * stride_ + t]);
    }
    void select(const StepInputs& step, int row, int thread, Selection& s) override {
        const int64_t first_q = shared() ? int64_t(row) * step.group() : row;
        const std::span<const float> scores(scores_.data() + first_q * stride_, size_t(step.kv.tokens));
        s.counts[size_t(row)] = select_by_score(
            scores, rule_of(config_), s.indices.data() + row * s.row_capacity, scratch_[size_t(thread)]);
        if (tail_table_.empty()) return draw_tail(step, row, s);
        std::vector<uint16_t>& classes = classes_[size_t(thread)];
        classes.resize(scores.size());
        float best = -std::numeric_limits<float>::infinity();
        for (float x : scores)
            best = max_nan_low(best, x);
        for (size_t t = 0; t < scores.size(); ++t)
            classes[t] = logit_class(best, scores[t], step.kv.head_dim);
        draw_tail(step, row, s, TailProposal{classes.data(), tail_table_});
    }

  private:
    static float max_nan_low(float a, float b) {
        return std::isnan(a) ? b : (std::isnan(b) ? a : std::max(a, b));
    }
    std::vector<float> scores_;
    int64_t stride_ = 0;
    std::vector<float> tail_table_;
    std::vector<std::vector<uint16_t>> classes_;  // per thread
};

class QuestPolicy final : public RankingPolicy {
  public:
    explicit QuestPolicy(const PolicyConfig& c) : RankingPolicy(c) {}
    int64_t prepare_step(const StepInputs& step, Selection& s, int threads) override {
        if (step.kv.page_size != config_.page_size || step.kv.heads[0].page_min == nullptr)
            fail("quest: the KV cache keeps pages of {} tokens, the policy asks for {}", step.kv.page_size,
                 config_.page_size);
        const int64_t page = config_.page_size;
        pages_ = chunks(step.kv.tokens, page);
        scores_.resize(size_t(step.q_heads * pages_));
        const int64_t kept_pages = chunks(config_.budget, page);
        if (pages_ <= kept_pages) return select_all(step, s);
        size_selection(s, shared(), rows(step), std::min(kept_pages * page, step.kv.tokens));
        page_list_.resize(size_t(threads) * size_t(kept_pages));
        size_scratch(threads);
        return step.kv.kv_heads() * chunks(pages_, kPageChunk);
    }
    void estimate(const StepInputs& step, int64_t item, int) override {
        const int64_t per_head = chunks(pages_, kPageChunk);
        const int h = int(item / per_head), g = step.group(), d = step.kv.head_dim;
        const int64_t begin = (item % per_head) * kPageChunk, end = std::min(pages_, begin + kPageChunk);
        const KvHeadView& kv = step.kv.heads[size_t(h)];
        cpu::page_scores(step.q + int64_t(h) * g * d, g, kv.page_min, kv.page_max, d, begin, end,
                         scores_.data() + h * g * pages_, pages_);
        if (shared())
            for (int64_t p = begin; p < end; ++p)
                for (int q = 1; q < g; ++q) {
                    float& best = scores_[size_t(h * g * pages_ + p)];
                    const float other = scores_[size_t((h * g + q) * pages_ + p)];
                    if (std::isnan(best) || other > best) best = other;
                }
    }
    void select(const StepInputs& step, int row, int thread, Selection& s) override {
        const int64_t page = config_.page_size, n = step.kv.tokens;
        const int64_t kept_pages = chunks(config_.budget, page);
        const int64_t first_q = shared() ? int64_t(row) * step.group() : row;
        int32_t* pages = page_list_.data() + thread * kept_pages;
        // Pages rank like tokens: the current token's page is forced, ties go to the later page.
        const SelectionRule rule{int(kept_pages), 0, 0, true};
        const int64_t count = select_by_score({scores_.data() + first_q * pages_, size_t(pages_)}, rule,
                                              pages, scratch_[size_t(thread)]);
        int32_t* out = s.indices.data() + row * s.row_capacity;
        int64_t k = 0;
        for (int64_t i = 0; i < count; ++i)
            for (int64_t t = pages[i] * page; t < std::min(n, (pages[i] + 1) * page); ++t)
                out[k++] = int32_t(t);
        s.counts[size_t(row)] = k;
        draw_tail(step, row, s);
    }

  private:
    std::vector<float> scores_;
    std::vector<int32_t> page_list_;
    int64_t pages_ = 0;
};

}  // namespace

void SelectionPolicy::draw_tail(const StepInputs& step, int row, Selection& s, TailProposal proposal) const {
    if (tail_ == 0 || s.tail_capacity == 0) return;
    const int d = step.kv.head_dim, first_q = s.per_kv_head ? row * step.group() : row;
    uint64_t seed = uint64_t(step.kv.tokens) << 16 ^ uint64_t(row);
    for (int i = 0; i < std::min(d, 8); ++i)
        seed = (seed ^ std::bit_cast<uint32_t>(step.q[int64_t(first_q) * d + i])) * 0x100000001b3ull;
    const int64_t at = row * s.row_capacity + s.counts[size_t(row)];
    s.tail_counts[size_t(row)] =
        sample_unselected(s.row(row), step.kv.tokens, s.tail_capacity, seed, s.indices.data() + at,
                          s.log_weights.data() + at, proposal);
}

std::unique_ptr<SelectionPolicy> make_policy(const PolicyConfig& config) {
    config.validate();
    switch (config.kind) {
        case PolicyKind::dense:
            return std::make_unique<DensePolicy>(config);
        case PolicyKind::adamas:
            return std::make_unique<AdamasPolicy>(config);
        case PolicyKind::oracle:
            return std::make_unique<OraclePolicy>(config);
        case PolicyKind::quest:
            return std::make_unique<QuestPolicy>(config);
        case PolicyKind::streaming:
            return std::make_unique<StreamingPolicy>(config);
    }
    fail("unknown policy");
}

}  // namespace adamas
