// Decode-step products: choosing packed or block kernels per matrix, quantizing each distinct input
// once, and spreading a few long row ranges of every product of a step over the pool in one job.
#include "model/decode_matvec.h"

#include <algorithm>
#include <cmath>

#include "adamas/error.h"
#include "adamas/matvec.h"

namespace adamas {

DecodeMatrix::DecodeMatrix(const WeightMatrix& weights, bool quantized_activations, int parts, uint8_t* arena)
    : weights_(weights), parts_(std::max(parts, 1)) {
    if (quantized_activations && PackedMatrix::packable(weights.type))
        packed_ = PackedMatrix::pack(weights.type, weights.data, weights.rows, weights.cols, arena);
}

int64_t DecodeMatrix::arena_bytes(const WeightMatrix& weights, bool quantized_activations) {
    return quantized_activations && PackedMatrix::packable(weights.type)
               ? PackedMatrix::packed_bytes(weights.type, weights.rows, weights.cols)
               : 0;
}

int64_t DecodeMatrix::item_begin(int64_t item) const {
    return std::min(weights_.rows, unit_begin(item) * (packed() ? PackedMatrix::kGroupRows : 1));
}

int64_t DecodeMatrix::item_end(int64_t item) const {
    return item + 1 == items() ? weights_.rows : item_begin(item + 1);
}

void DecodeMatrix::run_item(int64_t item, const float* x, const QuantizedVector* qx, float* y) const {
    if (packed()) {
        packed_matvec(packed_, *qx, unit_begin(item), unit_begin(item + 1), y);
    } else {
        const int64_t begin = item_begin(item), end = item_end(item);
        matvec(weights_.type, weights_.data, weights_.cols, x, begin, end, y + begin);
    }
}

void decode_matvecs(ThreadPool& pool, std::initializer_list<DecodeProduct> products, DecodeScratch& scratch) {
    const float* quantized[3] = {};
    const QuantizedVector* codes[8] = {};
    int64_t total = 0, index = 0;
    ADAMAS_ASSERT(products.size() <= 8);
    for (const DecodeProduct& p : products) {
        total += p.m.items();
        if (!p.m.packed()) {
            ++index;
            continue;
        }
        int slot = 0;
        while (slot < 3 && quantized[slot] && quantized[slot] != p.x)
            ++slot;
        ADAMAS_ASSERT(slot < 3);
        if (!quantized[slot]) {
            quantize_vector(p.x, p.m.weights().cols, scratch.codes[slot]);
            quantized[slot] = p.x;
        }
        codes[index++] = &scratch.codes[slot];
    }
    pool.parallel_for(total, [&](int64_t item, int) {
        int64_t i = 0;
        for (const DecodeProduct& p : products) {
            const int64_t items = p.m.items();
            if (item < items) {
                p.m.run_item(item, p.x, codes[i], p.y);
                return;
            }
            item -= items;
            ++i;
        }
    });
}

namespace {

// The 8-bit codes of x when any of the matrices is packed (quantized once for all of them).
const QuantizedVector* codes_for(std::initializer_list<const DecodeMatrix*> matrices, const float* x,
                                 QuantizedVector& codes) {
    for (const DecodeMatrix* m : matrices)
        if (m->packed()) {
            quantize_vector(x, m->weights().cols, codes);
            return &codes;
        }
    return nullptr;
}

}  // namespace

void decode_matvec_add(ThreadPool& pool, const DecodeMatrix& m, const float* x, float* y,
                       DecodeScratch& scratch) {
    const QuantizedVector* qx = codes_for({&m}, x, scratch.codes[0]);
    if (scratch.product.size() < size_t(m.weights().rows)) scratch.product.resize(size_t(m.weights().rows));
    float* product = scratch.product.data();
    pool.parallel_for(m.items(), [&](int64_t item, int) {
        m.run_item(item, x, qx, product);
        for (int64_t r = m.item_begin(item), e = m.item_end(item); r < e; ++r)
            y[r] += product[r];
    });
}

void decode_swiglu(ThreadPool& pool, const DecodeMatrix& gate, const DecodeMatrix& up, const float* x,
                   float* out, DecodeScratch& scratch) {
    ADAMAS_ASSERT(gate.weights().rows == up.weights().rows && gate.weights().cols == up.weights().cols);
    if (gate.packed() != up.packed()) {  // their items cover different rows: two products, then combine
        if (scratch.product.size() < size_t(up.weights().rows))
            scratch.product.resize(size_t(up.weights().rows));
        decode_matvecs(pool, {{gate, x, out}, {up, x, scratch.product.data()}}, scratch);
        for (int64_t r = 0; r < gate.weights().rows; ++r)
            out[r] = out[r] / (1.0f + std::exp(-out[r])) * scratch.product[size_t(r)];
        return;
    }
    const QuantizedVector* qx = codes_for({&gate, &up}, x, scratch.codes[0]);
    if (scratch.product.size() < size_t(up.weights().rows)) scratch.product.resize(size_t(up.weights().rows));
    float* up_rows = scratch.product.data();
    pool.parallel_for(gate.items(), [&](int64_t item, int) {
        gate.run_item(item, x, qx, out);
        up.run_item(item, x, qx, up_rows);
        for (int64_t r = gate.item_begin(item), e = gate.item_end(item); r < e; ++r)
            out[r] = out[r] / (1.0f + std::exp(-out[r])) * up_rows[r];
    });
}

}  // namespace adamas
