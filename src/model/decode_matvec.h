// The decode step's matrix-vector products: packed integer kernels (8-bit activations, as llama.cpp)
// for Q4_0/Q4_1/Q8_0 weights, the float block kernels for every other type, spread over the pool.
#pragma once
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "adamas/llama.h"
#include "adamas/packed_matvec.h"
#include "adamas/thread_pool.h"

namespace adamas {

// One weight matrix as the decode step uses it: a packed copy when its type allows and quantized
// activations are wanted, else the stored blocks.
class DecodeMatrix {
  public:
    DecodeMatrix() = default;
    // `arena`: where a packed copy goes (PackedMatrix::packed_bytes of it, 64-byte aligned); null: the
    // copy owns its storage. `parts`: how many work items a product is split into (see items()).
    DecodeMatrix(const WeightMatrix& weights, bool quantized_activations, int parts,
                 uint8_t* arena = nullptr);
    // Bytes a packed copy of `weights` needs in an arena: 0 when it will not be packed.
    static int64_t arena_bytes(const WeightMatrix& weights, bool quantized_activations);

    const WeightMatrix& weights() const { return weights_; }
    bool packed() const { return packed_.rows > 0; }
    // Work items: `parts` contiguous row ranges (fewer for tiny matrices). Long contiguous streams per
    // thread measured 2.26 ms for the default model's weights against 2.79 ms with 64-row items handed
    // out in turn (two threads, whose hardware prefetchers then restarted on every item).
    int64_t items() const { return std::min<int64_t>(parts_, units()); }
    int64_t item_begin(int64_t item) const;  // first row of an item
    int64_t item_end(int64_t item) const;    // one past its last row
    void run_item(int64_t item, const float* x, const QuantizedVector* qx,
                  float* y) const;  // qx: when packed

  private:
    // Rows come in units of a packed group (16 rows) or of one row.
    int64_t units() const { return packed() ? packed_.groups() : weights_.rows; }
    int64_t unit_begin(int64_t item) const { return units() * item / items(); }

    WeightMatrix weights_;
    PackedMatrix packed_;
    int parts_ = 1;
};

struct DecodeProduct {
    const DecodeMatrix& m;
    const float* x;  // m.weights().cols floats
    float* y;        // m.weights().rows floats
};

// Activation codes and a product buffer reused across calls (no allocation per step once sized).
struct DecodeScratch {
    QuantizedVector codes[3];
    std::vector<float> product;
};

// Runs several products as one pool job: a decode step has ~200 of them and each job is a hand-off
// between threads. Products that read the same x share one quantization of it (at most 3 distinct x).
void decode_matvecs(ThreadPool& pool, std::initializer_list<DecodeProduct> products, DecodeScratch& scratch);

// y += m · x, the residual add done by each item on its own rows (no serial pass after the job).
void decode_matvec_add(ThreadPool& pool, const DecodeMatrix& m, const float* x, float* y,
                       DecodeScratch& scratch);

// out = SiLU(gate · x) ⊙ (up · x): each item computes the same rows of both products and combines them,
// so the feed-forward's element-wise step runs in parallel inside the job.
void decode_swiglu(ThreadPool& pool, const DecodeMatrix& gate, const DecodeMatrix& up, const float* x,
                   float* out, DecodeScratch& scratch);

}  // namespace adamas
