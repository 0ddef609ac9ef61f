namespace Dlc.Compiler.Ir;

/// <summary>
/// Every operation the IR knows. The metadata of each (arity, shape rule, backward rule, cost) is in
/// <see cref="OpTable"/>; nothing compares op names as strings.
/// </summary>
public enum Op
{
    // sources
    Input,
    Parameter,
    Constant,

    // linear algebra: [M,K]·[K,N] with optional transposes of the stored operands
    MatMul,
    BiasAdd,
    BiasGrad,

    // elementwise
    Add,
    Subtract,
    Multiply,
    Scale,
    Relu,
    ReluGrad,
    Sigmoid,
    SigmoidGrad,
    Tanh,
    TanhGrad,
    Gelu,
    GeluGrad,

    // over the last axis
    Softmax,
    SoftmaxGrad,
    LogSoftmax,
    LogSoftmaxGrad,

    // randomness: a dropout mask (0 or 1/(1-p)), drawn afresh each time the plan runs
    DropoutMask,

    // reductions and shape
    Sum,
    Broadcast,
    Reshape,

    // losses (scalar results) and their gradients
    SoftmaxCrossEntropy,
    SoftmaxCrossEntropyGrad,
    Mse,
    MseGrad,

    // convolution, pooling and resampling over NCL / NCHW tensors
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    MaxPool,
    AvgPool,

    // their gradients: conv2d with respect to its input, weight and bias; max pooling with respect to its input
    Conv2dInputGrad,
    Conv2dWeightGrad,
    Conv2dBiasGrad,
    MaxPoolGrad,
    GlobalAvgPool,
    Upsample,

    // normalisation, and the dropout mask that drops whole channels
    BatchNorm,
    LayerNorm,
    ChannelDropoutMask,

    // sequences [N, T, features]
    Embedding,
    Rnn,
    Lstm,
    Gru,
    Attention,
    PositionalEncoding,

    // joining tensors
    Concat,

    // variational models: the reparameterised sample and the two terms of the ELBO
    SampleNormal,
    BinaryCrossEntropy,
    KlNormal,

    // gradients of the normalisations: with respect to the input, and to the weight (the bias's is a sum of dy)
    BatchNormInputGrad,
    BatchNormWeightGrad,
    LayerNormInputGrad,
    LayerNormWeightGrad,

    // gradients of average pooling, global average pooling and nearest upsampling with respect to their input
    AvgPoolGrad,
    GlobalAvgPoolGrad,
    UpsampleGrad,

    // broadcasting: a tensor repeated along axes of size 1 (and new leading axes) up to the declared shape,
    // and its gradient, the sum over those axes back down to the declared shape
    Expand,
    ReduceTo,

    // elementwise a / b of one shape
    Divide,

    // gradients of sequence layers: the embedding table's (a scatter-add of dy by index); a recurrent layer's
    // with respect to its input (back-propagation through time, which also computes the weights' gradients),
    // and each weight's gradient as computed by that op
    EmbeddingGrad,
    RecurrentGrad,
    RecurrentWeightGrad,

    // an evaluation-mode batch norm folded into the convolution before it: the convolution's weight and bias
    // with the normalisation's scale and shift applied per output channel
    BatchNormFoldWeight,
    BatchNormFoldBias,

    // the length of each sequence of token indices padded with 0 at the end, for packed recurrent layers
    SequenceLengths,

    // the gradient of attention with respect to its packed q, k, v (the probabilities come from the forward op's run)
    AttentionGrad,

    // the mean over the time axis of a sequence [N, T, D] (over each sample's own length when packed), and its gradient
    SequenceMean,
    SequenceMeanGrad,

    // attention from one sequence (the queries) to another (the keys and values), and its gradient with respect to
    // the input its axis names (0 q, 1 k, 2 v)
    CrossAttention,
    CrossAttentionGrad,

    // weight normalisation (Salimans and Kingma 2016): w = g · v / ‖v‖ per output unit (the rows of axis 0),
    // and its gradients with respect to v and g
    WeightNorm,
    WeightNormDirectionGrad,
    WeightNormScaleGrad,
}
