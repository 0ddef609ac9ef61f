namespace Dlc.Compiler.Tests;

/// <summary>Mistakes in models of the wider language, as the user reads them: exact text, span and hint.</summary>
public class LayerDiagnosticTests
{
    [Fact]
    public void A_composed_layer_continued_at_column_one_is_bad_indentation()
    {
        Compile.Error("""
            let convBlock (channels: int) =
                conv2d channels (kernel = 3, padding = 1)
            >> batchNorm
            """).ShouldBe("""
            error DL0104: this line is not indented, so it cannot continue the body of `let convBlock`
              --> test.dl:3:1
               |
             3 | >> batchNorm
               | ^^
               = help: indent the body of `let convBlock` by four spaces
            """);
    }

    [Fact]
    public void A_string_where_a_layer_wants_a_count_says_what_to_write()
    {
        Compile.Error("""
            model M (x: Tensor[N, 784]) : Tensor[N, 10] =
                x |> dense "wide" |> dense 10
            """).ShouldBe("""
            error DL0304: the number of units of `dense` must be a positive integer, found a string
              --> test.dl:2:16
               |
             2 |     x |> dense "wide" |> dense 10
               |                ^^^^^^
               = help: write a whole number of 1 or more, such as 64; a name bound by `let hidden = 64` works too
            """);
        Compile.Error("model M (x: Tensor[N, 784]) : Tensor[N, 10] =\n    x |> dense 12.5 |> dense 10\n")
            .ShouldContain("= help: a count is a whole number: `12`");
    }

    [Fact]
    public void A_model_header_without_equals_shows_the_fixed_header()
    {
        Compile.Error("""
            model FashionCnn (image: Tensor[N, 1, 28, 28]) : Tensor[N, 10]
                image |> conv2d 8 (kernel = 3) |> flatten |> dense 10
            """).ShouldBe("""
            error DL0105: expected `=` before the body of `model FashionCnn`
              --> test.dl:2:5
               |
             2 |     image |> conv2d 8 (kernel = 3) |> flatten |> dense 10
               |     ^^^^^
               = help: end line 1 with `=`: `model FashionCnn (image: Tensor[N, 1, 28, 28]) : Tensor[N, 10] =`
            """);
    }

    [Fact]
    public void An_unknown_layer_suggests_the_layer_of_the_language_nearest_to_it()
    {
        Compile.Error("model M (image: Tensor[N, 1, 28, 28]) : Tensor[N, 10] =\n    image |> conv3d 8 (kernel = 3) |> flatten |> dense 10\n").ShouldBe("""
            error DL0201: `conv3d` is not defined
              --> test.dl:2:14
               |
             2 |     image |> conv3d 8 (kernel = 3) |> flatten |> dense 10
               |              ^^^^^^
               = help: did you mean `conv2d`?
            """);
    }

    [Fact]
    public void Channels_written_as_a_string_are_the_wrong_type_with_the_fix()
    {
        Compile.Error("model M (image: Tensor[N, 1, 28, 28]) : Tensor[N, 10] =\n    image |> conv2d \"32\" (kernel = 3) |> flatten |> dense 10\n").ShouldBe("""
            error DL0304: the number of output channels of `conv2d` must be a positive integer, found a string
              --> test.dl:2:21
               |
             2 |     image |> conv2d "32" (kernel = 3) |> flatten |> dense 10
               |                     ^^^^
               = help: write the number without quotes: `32`
            """);
    }

    [Fact]
    public void A_feature_map_reaching_the_dense_head_without_flatten_suggests_flatten()
    {
        Compile.Error(LanguageSketchTests.FashionCnn.Replace("    |> flatten\n", "")).ShouldBe("""
            error DL0302: `dense 128` takes Tensor[N, features], but `maxPool 2` gives Tensor[N, 64, 7, 7]
               --> test.dl:12:8
                |
             12 |     |> dense 128 |> relu |> dropout 0.3
                |        ^^^^^^^^^
                = help: flatten it first: `|> flatten |> dense 128`
            """);
    }

    [Fact]
    public void A_shared_convolution_applied_to_other_channels_is_a_shape_mismatch()
    {
        Compile.Error("""
            model M (image: Tensor[N, 3, 32, 32]) : Tensor[N, 10] =
                let conv = conv2d 16 (kernel = 3, padding = 1)
                let h = image |> conv |> relu
                h |> conv |> globalAvgPool |> dense 10
            """).ShouldBe("""
            error DL0301: this `conv2d 16` is shared: it was first applied to 3 channels, here to 16
              --> test.dl:4:10
               |
             4 |     h |> conv |> globalAvgPool |> dense 10
               |          ^^^^
               = help: applying one layer value twice shares its weights; call `conv2d` again for a layer of its own
            """);
    }

    [Fact]
    public void Groups_that_do_not_divide_the_output_channels_are_reported_at_the_option()
    {
        Compile.Error("model M (image: Tensor[N, 3, 32, 32]) : Tensor[N, 10] =\n    image |> conv2d 30 (kernel = 3, groups = 4) |> globalAvgPool |> dense 10\n").ShouldBe("""
            error DL0306: 30 output channels do not split into 4 groups
              --> test.dl:2:46
               |
             2 |     image |> conv2d 30 (kernel = 3, groups = 4) |> globalAvgPool |> dense 10
               |                                              ^
               = help: the groups must divide the channels; 30 splits into 1, 2, 3, 5, 6, 10, 15 or 30 groups
            """);
    }

    [Fact]
    public void Groups_that_do_not_divide_the_input_channels_name_where_the_input_comes_from()
    {
        Compile.Error("model M (image: Tensor[N, 3, 32, 32]) : Tensor[N, 10] =\n    image |> conv2d 32 (kernel = 3, groups = 2) |> globalAvgPool |> dense 10\n").ShouldBe("""
            error DL0301: `conv2d 32` splits its input into 2 groups, but the input `image` gives 3 channels
              --> test.dl:2:14
               |
             2 |     image |> conv2d 32 (kernel = 3, groups = 2) |> globalAvgPool |> dense 10
               |              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
               = help: the groups must divide the input channels too; 3 splits into 1 or 3 groups
            """);
    }

    [Fact]
    public void A_flat_input_to_a_convolution_suggests_the_reshape_that_makes_an_image()
    {
        Compile.Error("model M (x: Tensor[N, 784]) : Tensor[N, 10] =\n    x |> conv2d 8 (kernel = 3) |> dense 10\n").ShouldBe("""
            error DL0302: `conv2d 8` takes Tensor[N, channels, height, width], but the input `x` gives Tensor[N, 784]
              --> test.dl:2:10
               |
             2 |     x |> conv2d 8 (kernel = 3) |> dense 10
               |          ^^^^^^^^^^^^^^^^^^^^^
               = help: give the features a channel and two spatial axes first: `|> reshape [1; 28; 28]`
            """);
    }

    [Fact]
    public void A_convolution_without_a_kernel_size_says_how_to_give_one()
    {
        Compile.Error("model M (x: Tensor[N, 1, 28, 28]) : Tensor[N, 10] =\n    x |> conv2d 8 |> flatten |> dense 10\n").ShouldBe("""
            error DL0305: `conv2d 8` has no kernel size
              --> test.dl:2:10
               |
             2 |     x |> conv2d 8 |> flatten |> dense 10
               |          ^^^^^^^^
               = help: give one: `conv2d 8 (kernel = 3)`
            """);
    }

    [Fact]
    public void A_kernel_larger_than_the_image_is_a_shape_mismatch()
    {
        Compile.Error("model M (x: Tensor[N, 1, 4, 4]) : Tensor[N, 10] =\n    x |> conv2d 8 (kernel = 5) |> flatten |> dense 10\n")
            .ShouldStartWith("error DL0301: `conv2d 8` does not fit Tensor[N, 1, 4, 4]: a window of 5 (dilation 1) is larger than the padded length 4");
    }

    [Fact]
    public void Same_padding_with_a_stride_is_rejected_at_the_padding()
    {
        Compile.Error("model M (x: Tensor[N, 3, 8, 8]) =\n    x |> conv2d 8 (kernel = 3, stride = 2, padding = same)\n")
            .ShouldStartWith("error DL0306: `same` padding keeps the size, so it needs stride 1\n  --> test.dl:2:54");
    }

    [Fact]
    public void Integer_tokens_reaching_a_dense_layer_point_to_embedding()
    {
        Compile.Error("model M (tokens: Tensor[N, T] of int) : Tensor[N, T, 10] =\n    tokens |> dense 10\n").ShouldBe("""
            error DL0304: `dense 10` takes numbers, but the input `tokens` gives integer indices Tensor[N, T]
              --> test.dl:2:15
               |
             2 |     tokens |> dense 10
               |               ^^^^^^^^
               = help: turn indices into vectors first with `embedding vocabulary dim`
            """);
    }

    [Fact]
    public void An_embedding_of_numbers_asks_for_an_integer_input()
    {
        Compile.Error("model M (x: Tensor[N, T]) =\n    x |> embedding 10 4\n")
            .ShouldContain("= help: declare the input as indices, for example `(tokens: Tensor[N, T] of int)`");
    }

    [Fact]
    public void Heads_that_do_not_divide_the_features_list_the_ones_that_do()
    {
        Compile.Error("model M (x: Tensor[N, T, 64]) : Tensor[N, T, 64] =\n    x |> multiHeadAttention 3\n").ShouldBe("""
            error DL0301: `multiHeadAttention 3` splits the features into 3 heads, but the input `x` gives 64 features
              --> test.dl:2:10
               |
             2 |     x |> multiHeadAttention 3
               |          ^^^^^^^^^^^^^^^^^^^^
               = help: the heads must divide the features: 64 splits into 1, 2, 4, 8, 16, 32, 64... heads
            """);
    }

    [Fact]
    public void Cross_attention_takes_a_sequence_as_its_memory_and_no_causal_mask()
    {
        Compile.Error("model M (x: Tensor[N, T, 8]) : Tensor[N, T, 8] =\n    let m = x |> sequenceMean\n    x |> multiHeadAttention 2 (memory = m)\n").ShouldBe("""
            error DL0301: `multiHeadAttention 2` attends from Tensor[N, T, 8] to a memory Tensor[N, S, features], but `sequenceMean` gives Tensor[N, 8]
              --> test.dl:3:41
               |
             3 |     x |> multiHeadAttention 2 (memory = m)
               |                                         ^
            """);
        Compile.Error("model M (x: Tensor[N, T, 8]) : Tensor[N, T, 8] =\n    x |> multiHeadAttention 2 (memory = x, causal = true)\n").ShouldBe("""
            error DL0306: `multiHeadAttention 2` with a `memory` reads the whole memory, so it cannot be `causal`
              --> test.dl:2:31
               |
             2 |     x |> multiHeadAttention 2 (memory = x, causal = true)
               |                               ^^^^^^^^^^^^^^^^^^^^^^^^^^^
               = help: mask the decoder's own later positions in its self-attention: `multiHeadAttention heads (causal = true)` before this layer
            """);
        Compile.Error("model M (x: Tensor[N, T, 8]) : Tensor[N, T, 8] =\n    x |> multiHeadAttention 2 (memory = 3)\n")
            .ShouldContain("error DL0304: `memory` of `multiHeadAttention 2` is the sequence the queries attend to, a Tensor[N, S, features], but this is an integer");
    }

    [Fact]
    public void Concatenated_feature_maps_of_other_sizes_name_the_one_that_differs()
    {
        Compile.Error("model M (x: Tensor[N, 3, 8, 8]) =\n    concat [x; x |> conv2d 4 (kernel = 3)]\n").ShouldBe("""
            error DL0301: `concat` joins along axis 1, so the other axes must agree: the first is Tensor[N, 3, 8, 8], this is Tensor[N, 4, 6, 6]
              --> test.dl:2:21
               |
             2 |     concat [x; x |> conv2d 4 (kernel = 3)]
               |                     ^^^^^^^^^^^^^^^^^^^^^
               = help: this one comes from `conv2d 4` (line 2)
            """);
    }

    [Fact]
    public void A_reshape_to_another_number_of_elements_says_both_counts()
    {
        Compile.Error("model M (x: Tensor[N, 784]) =\n    x |> reshape [1; 27; 27]\n")
            .ShouldStartWith("error DL0301: `reshape [1; 27; 27]` cannot rearrange Tensor[N, 784]: it has 784 elements per sample, the new sizes hold 729");
    }

    [Fact]
    public void An_unknown_layer_option_suggests_the_nearest_option()
    {
        Compile.Error("model M (x: Tensor[N, 3, 8, 8]) =\n    x |> conv2d 8 (kernal = 3)\n")
            .ShouldStartWith("error DL0203: `conv2d 8` has no option `kernal`");
    }
}
