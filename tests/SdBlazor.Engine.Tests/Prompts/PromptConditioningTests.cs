using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Prompts;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Engine.Tokenization;
using SdBlazor.Shared;
using Xunit;

namespace SdBlazor.Engine.Tests.Prompts;

/// <summary>
/// The embedded model's real text encoder: weighted prompts, long prompts and clip skip give the tensors A1111's
/// formulas give, each expected tensor computed here from the encoder's raw output.
/// </summary>
public sealed class PromptConditioningTests : IDisposable
{
    private readonly LoadedModel? _model;
    private readonly RunOptions _runOptions = new();

    public PromptConditioningTests()
    {
        if (!DefaultModel.Present) return;
        var options = Microsoft.Extensions.Options.Options.Create(new EngineOptions { ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1, OptimizedModelCache = false });
        var sessions = new SessionFactory(options, NullLogger<SessionFactory>.Instance);
        _model = LoadedModel.Load(ModelFolder.Open(DefaultModel.Path!), sessions, useTaesd: false);
    }

    private LoadedModel Model => _model!;
    private ClipTokenizer Tokenizer => Model.Tokenizer;

    private float[] Raw(int[] ids, int clipSkip = 1) => Model.TextEncoder.Encode(ids, _runOptions, clipSkip, out _);

    /// <summary>A 77-id window from pieces tokenized separately, as A1111 tokenizes each weighted run, with their weights.</summary>
    private (int[] Ids, float[] Weights) Window(params (string Text, float Weight)[] pieces)
    {
        var ids = new List<int> { Tokenizer.BosId };
        var weights = new List<float> { 1f };
        foreach (var (text, weight) in pieces)
            foreach (var id in Tokenizer.EncodeTokens(text)) { ids.Add(id); weights.Add(weight); }
        while (ids.Count < 77) { ids.Add(Tokenizer.EosId); weights.Add(1f); }
        return (ids.ToArray(), weights.ToArray());
    }

    private (PromptConditioning Cond, PromptConditioning? Uncond) Encode(GenerationRequest request, bool guidance = true) =>
        TextConditioning.Encode(Model, request, guidance, _runOptions, NullLogger.Instance, CancellationToken.None);

    [DefaultModelFact]
    public void A_plain_prompt_is_the_encoders_output_unchanged()
    {
        var (cond, uncond) = Encode(new GenerationRequest { Prompt = "a red cat", NegativePrompt = "blurry" });
        Assert.Equal(Raw(Tokenizer.Encode("a red cat")), cond.At(0));
        Assert.Equal(Raw(Tokenizer.Encode("blurry")), uncond!.At(0));
        Assert.Equal(77, cond.Tokens);
    }

    [DefaultModelFact]
    public void Weights_multiply_each_tokens_vector_and_the_mean_is_restored()
    {
        var (cond, _) = Encode(new GenerationRequest { Prompt = "a (red:1.5) [cat]" }, guidance: false);

        var (ids, weights) = Window(("a ", 1f), ("red", 1.5f), (" ", 1f), ("cat", (float)(1 / 1.1)));
        var z = Raw(ids);
        var hidden = z.Length / 77;
        var expected = new float[z.Length];
        double before = 0, after = 0;
        for (var i = 0; i < z.Length; i++)
        {
            expected[i] = z[i] * weights[i / hidden];
            before += z[i];
            after += expected[i];
        }
        var scale = (float)(before / z.Length) / (float)(after / z.Length);
        for (var i = 0; i < z.Length; i++) expected[i] *= scale;

        var actual = cond.At(0);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5);
        // And it is not the unweighted encoding.
        Assert.NotEqual(z, actual);
    }

    [DefaultModelFact]
    public void No_norm_multiplies_without_restoring_the_mean_and_ignore_drops_weights()
    {
        var (ids, weights) = Window(("a ", 1f), ("red", 1.5f));
        var z = Raw(ids);
        var hidden = z.Length / 77;
        var (noNorm, _) = Encode(new GenerationRequest { Prompt = "a (red:1.5)", Emphasis = "No norm" }, guidance: false);
        for (var i = 0; i < z.Length; i++) Assert.Equal(z[i] * weights[i / hidden], noNorm.At(0)[i], 1e-5);
        var (ignore, _) = Encode(new GenerationRequest { Prompt = "a (red:1.5)", Emphasis = "Ignore" }, guidance: false);
        Assert.Equal(z, ignore.At(0));
        // "None": the brackets are text the tokenizer sees.
        var (none, _) = Encode(new GenerationRequest { Prompt = "a (red:1.5)", Emphasis = "None" }, guidance: false);
        Assert.Equal(Raw(Tokenizer.Encode("a (red:1.5)")), none.At(0));
    }

    [DefaultModelFact]
    public void Long_prompts_are_encoded_in_chunks_and_concatenated()
    {
        // Past 75 tokens A1111 encodes a second window; the encoder output of each is placed one after the other.
        var prompt = string.Join(", ", Enumerable.Repeat("red cat", 40));
        var chunked = new PromptChunker(Tokenizer).Chunk(prompt);
        Assert.True(chunked.Chunks.Count >= 2);
        var encoder = new PromptEncoder(Tokenizer, PromptOptions.Default, (ids, _) => Raw(ids));
        var conditioning = encoder.Encode(prompt, 20);
        Assert.Equal(77 * chunked.Chunks.Count, conditioning.Tokens);
        var expected = chunked.Chunks.SelectMany(c => Raw(c.Tokens)).ToArray();
        Assert.Equal(expected, conditioning.At(0));
    }

    [DefaultModelFact]
    public void The_embedded_unet_takes_77_tokens_so_longer_prompts_keep_their_first_chunk()
    {
        Assert.Equal(77, Model.UNet.FixedSequenceLength);
        var prompt = string.Join(", ", Enumerable.Repeat("red cat", 40));
        var (cond, uncond) = Encode(new GenerationRequest { Prompt = prompt });
        Assert.Equal(77, cond.Tokens);
        Assert.Equal(77, uncond!.Tokens);
        Assert.Equal(Raw(new PromptChunker(Tokenizer).Chunk(prompt).Chunks[0].Tokens), cond.At(0));
    }

    [DefaultModelFact]
    public void Prompt_editing_gives_a_conditioning_per_schedule_entry()
    {
        var (cond, _) = Encode(new GenerationRequest { Prompt = "a [red:blue:0.5] cat", Steps = 10 }, guidance: false);
        Assert.Equal([5, 10], cond.Schedule.Select(e => e.EndAtStep));
        Assert.Equal(Raw(Tokenizer.Encode("a red cat")), cond.At(0));
        Assert.Equal(Raw(Tokenizer.Encode("a red cat")), cond.At(5));
        Assert.Equal(Raw(Tokenizer.Encode("a blue cat")), cond.At(6));
    }

    [DefaultModelFact]
    public void Clip_skip_2_is_the_final_layer_norm_of_the_penultimate_layers_output()
    {
        var ids = Tokenizer.Encode("a red cat");
        var skipped = Raw(ids, clipSkip: 2);

        // Independently: this model's graph names its residual stream; block 2 of 4 ends at hidden_states[-2].
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(DefaultModel.Path!, "text_encoder", "model.onnx")));
        const string penultimate = "/te/blocks.2/Add_2_output_0";
        Assert.Contains(model.Graph.Node, n => n.Output.Contains(penultimate));
        model.Graph.Output.Add(new ValueInfoProto { Name = penultimate });
        using var session = new InferenceSession(model.ToByteArray());
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var outputs = session.Run(new RunOptions(), ["input_ids"], [input], [penultimate]);
        var h = outputs[0].GetTensorDataAsSpan<float>().ToArray();

        var norm = model.Graph.Node.Single(n => n.Output.Contains("last_hidden_state"));
        Assert.Equal("LayerNormalization", norm.OpType);
        var epsilon = norm.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
        var gamma = Weights(model, norm.Input[1]);
        var beta = Weights(model, norm.Input[2]);
        var hidden = gamma.Length;
        Assert.Equal(h.Length, skipped.Length);
        for (var t = 0; t < h.Length / hidden; t++)
        {
            var row = h.AsSpan(t * hidden, hidden);
            double mean = 0, variance = 0;
            foreach (var v in row) mean += v;
            mean /= hidden;
            foreach (var v in row) variance += (v - mean) * (v - mean);
            variance /= hidden;
            for (var c = 0; c < hidden; c++)
                Assert.Equal((row[c] - mean) / Math.Sqrt(variance + epsilon) * gamma[c] + beta[c], skipped[t * hidden + c], 1e-4);
        }
        Assert.NotEqual(Raw(ids), skipped);
        // Deeper than the encoder (4 layers here) is clamped to its first layer's output.
        Assert.Equal(Raw(ids, clipSkip: 4), Raw(ids, clipSkip: 12));
        Assert.Equal(4, Model.TextEncoder.Layers);
    }

    /// <summary>An initializer's values as floats, following a Cast from a float16 initializer as this model stores its weights.</summary>
    private static float[] Weights(ModelProto model, string name)
    {
        var cast = model.Graph.Node.FirstOrDefault(n => n.Output.Contains(name) && n.OpType == "Cast");
        var tensor = model.Graph.Initializer.Single(i => i.Name == (cast is null ? name : cast.Input[0]));
        if (tensor.DataType == 1) return tensor.FloatData.Count > 0 ? tensor.FloatData.ToArray() : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
        Assert.Equal(10, tensor.DataType);
        var halves = tensor.RawData.Length > 0
            ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(tensor.RawData.Span).ToArray()
            : tensor.Int32Data.Select(i => BitConverter.UInt16BitsToHalf((ushort)i)).ToArray();
        return halves.Select(x => (float)x).ToArray();
    }

    public void Dispose()
    {
        _model?.Dispose();
        _runOptions.Dispose();
    }
}
