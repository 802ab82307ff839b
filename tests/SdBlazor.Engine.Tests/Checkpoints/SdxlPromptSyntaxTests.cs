using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tokenization;
using SdBlazor.Shared;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>
/// A1111 prompt syntax on SDXL (its <c>sd_models_xl</c> path): what the UNet receives for emphasis, BREAK, alternation
/// and hires fix equals a reference built here from the two encoder graphs run directly — each encoder weighted and
/// mean-restored on its own, the two penultimate states side by side per token, chunks one after another, bigG's pooled
/// output of the first chunk, time ids of the pass's size. The expected token layouts are written out per case, not
/// derived from the engine's chunker.
/// </summary>
public sealed class SdxlPromptSyntaxTests : IDisposable
{
    private readonly CheckpointHarness _h = new();
    private string _folder = "";

    public void Dispose() => _h.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", name);

    private async Task ImportAsync()
    {
        File.Copy(Fixture("sdxl-tiny.safetensors"), Path.Combine(_h.ModelsPath, "sdxl-tiny.safetensors"));
        _h.Engine.Engine.RefreshModels();
        await _h.Engine.Engine.PreloadAsync("sdxl-tiny");
        _folder = Assert.Single(Directory.GetDirectories(_h.CachePath, "sdxl-tiny-*"));
    }

    [Fact]
    public async Task Emphasis_weights_each_encoders_tokens_and_restores_each_encoders_mean()
    {
        await ImportAsync();
        await GenerateAsync(new GenerationRequest { Prompt = "a (red:1.5) lighthouse, [[fog]]", NegativePrompt = "blurry", CfgScale = 5, Steps = 2 });

        // start · a · red×1.5 · lighthouse , · fog×(1/1.1)²: each run tokenized on its own, as A1111's tokenize_line does.
        var weights = new List<float> { 1f };
        weights.AddRange(Enumerable.Repeat(1f, Tokens(0, "a").Length));
        weights.AddRange(Enumerable.Repeat(1.5f, Tokens(0, "red").Length));
        weights.AddRange(Enumerable.Repeat(1f, Tokens(0, "lighthouse").Length + Tokens(0, ",").Length));
        weights.AddRange(Enumerable.Repeat(1 / 1.1f / 1.1f, Tokens(0, "fog").Length));
        var cond = Reference(["a red lighthouse, fog"], weights.ToArray());
        var uncond = Reference(["blurry"], null);

        var unet = _h.Engine.Engine.Resident!.UNet;
        AssertClose("encoder_hidden_states", [.. uncond.Hidden, .. cond.Hidden], unet.EncoderHiddenStates.ToArray());
        AssertClose("text_embeds", [.. uncond.Pooled, .. cond.Pooled], unet.TextEmbeds.ToArray());
        // The weighting must have acted: the plain text's states are not what the UNet got.
        var plain = Reference(["a red lighthouse, fog"], null);
        Assert.True(MaxDifference(plain.Hidden, unet.EncoderHiddenStates[cond.Hidden.Length..].ToArray()) > 1e-3f);
        AssertClose("pooled (unweighted)", plain.Pooled, unet.TextEmbeds[cond.Pooled.Length..].ToArray());
    }

    [Fact]
    public async Task Break_starts_a_new_75_token_chunk_in_both_encoders_and_the_pooled_vector_is_the_first_chunks()
    {
        await ImportAsync();
        await GenerateAsync(new GenerationRequest { Prompt = "a cat BREAK a dog", NegativePrompt = "blurry BREAK ugly", CfgScale = 5, Steps = 2 });

        var cond = Reference(["a cat", "a dog"], null);
        var uncond = Reference(["blurry", "ugly"], null);
        var unet = _h.Engine.Engine.Resident!.UNet;
        Assert.Equal(2 * ClipTokenizer.ContextLength * 48, unet.EncoderHiddenStates.Length / 2);
        AssertClose("encoder_hidden_states", [.. uncond.Hidden, .. cond.Hidden], unet.EncoderHiddenStates.ToArray());
        AssertClose("text_embeds", [.. uncond.Pooled, .. cond.Pooled], unet.TextEmbeds.ToArray());
        Assert.Equal(Reference(["a cat"], null).Pooled, cond.Pooled);
    }

    [Fact]
    public async Task A_longer_prompt_than_the_negative_runs_the_halves_separately_with_their_own_pooled_vectors()
    {
        await ImportAsync();
        var steps = new List<(float[] Hidden, float[] Pooled)>();
        await GenerateAsync(new GenerationRequest { Prompt = "a cat BREAK a dog", NegativePrompt = "", CfgScale = 5, Steps = 1 }, steps);

        // The zeros of the empty negative prompt are 77 tokens, the prompt 154: two UNet passes of batch 1 per step, the
        // prompt's last, with its own 154 tokens and pooled vector.
        var unet = _h.Engine.Engine.Resident!.UNet;
        Assert.Equal(1, unet.Batch);
        var cond = Reference(["a cat", "a dog"], null);
        var step = Assert.Single(steps);
        AssertClose("encoder_hidden_states", cond.Hidden, step.Hidden);
        AssertClose("text_embeds", cond.Pooled, step.Pooled);
    }

    [Fact]
    public async Task Alternation_changes_the_hidden_states_and_the_pooled_vector_every_step()
    {
        await ImportAsync();
        var steps = new List<(float[] Hidden, float[] Pooled)>();
        await GenerateAsync(new GenerationRequest { Prompt = "a [cat|dog] on a mat", CfgScale = 1, Steps = 4 }, steps);

        var cat = Reference(["a cat on a mat"], null);
        var dog = Reference(["a dog on a mat"], null);
        Assert.Equal(4, steps.Count);
        // A1111's schedule ends "cat" at step 1, "dog" at 2, "cat" at 3, "dog" at 4, and its denoiser counts steps from 0
        // (reconstruct_cond_batch: the first entry with step ≤ end): cat, cat, dog, cat.
        var expectedOrder = new[] { cat, cat, dog, cat };
        for (var i = 0; i < 4; i++)
        {
            var expected = expectedOrder[i];
            AssertClose($"step {i} encoder_hidden_states", expected.Hidden, steps[i].Hidden);
            AssertClose($"step {i} text_embeds", expected.Pooled, steps[i].Pooled);
        }
        Assert.True(MaxDifference(cat.Pooled, dog.Pooled) > 1e-4f);
    }

    [Fact]
    public async Task Hires_fix_conditions_the_second_pass_on_its_size_and_its_own_prompt()
    {
        await ImportAsync();
        using var result = await _h.Engine.Engine.GenerateAsync(new GenerationRequest
        {
            Prompt = "a cat", HrPrompt = "a (dog:1.2)", Seed = 4, Steps = 2, CfgScale = 1, Model = "sdxl-tiny", Sampler = "Euler",
            Width = 64, Height = 64, EnableHr = true, HrScale = 1.5, HrResizeX = 0, HrUpscaler = "Latent", HrSecondPassSteps = 1, Strength = 0.5,
        }, null, CancellationToken.None);
        Assert.Equal((96, 96), (result.Images[0].Image.Width, result.Images[0].Image.Height));
        Assert.Empty(result.Parameters.Warnings);

        var unet = _h.Engine.Engine.Resident!.UNet;
        Assert.Equal(new float[] { 96, 96, 0, 0, 96, 96 }, unet.TimeIds.ToArray());
        var weights = new float[2 + Tokens(0, "a").Length + Tokens(0, "dog").Length];
        Array.Fill(weights, 1f);
        for (var i = 0; i < Tokens(0, "dog").Length; i++) weights[1 + Tokens(0, "a").Length + i] = 1.2f;
        var dog = Reference(["a dog"], weights);
        AssertClose("encoder_hidden_states", dog.Hidden, unet.EncoderHiddenStates.ToArray());
        AssertClose("text_embeds", dog.Pooled, unet.TextEmbeds.ToArray());
    }

    private async Task GenerateAsync(GenerationRequest request, List<(float[] Hidden, float[] Pooled)>? steps = null)
    {
        using var result = await _h.Engine.Engine.GenerateAsync(request with
        {
            Seed = 7, Model = "sdxl-tiny", Sampler = "Euler", Width = 64, Height = 64,
        }, steps is null ? null : new StepSink(_h, steps), CancellationToken.None);
        Assert.Single(result.Images);
        Assert.Empty(result.Parameters.Warnings);
    }

    /// <summary>What the UNet held for each step (read while the step's progress is reported, before the next fill).</summary>
    private sealed class StepSink(CheckpointHarness h, List<(float[] Hidden, float[] Pooled)> steps) : IStepProgressSink
    {
        public void OnStep(in StepProgress progress)
        {
            var unet = h.Engine.Engine.Resident!.UNet;
            steps.Add((unet.EncoderHiddenStates.ToArray(), unet.TextEmbeds.ToArray()));
        }
    }

    private int[] Tokens(int encoder, string text) =>
        ClipTokenizer.Load(Path.Combine(_folder, encoder == 0 ? "tokenizer" : "tokenizer_2")).EncodeTokens(text).ToArray();

    /// <summary>
    /// Chunks (one text each, 77 ids as the tokenizer pads) through both encoder graphs; <paramref name="weights"/> (77 per
    /// chunk, only for a single chunk here) multiply each encoder's states, whose mean is then restored per encoder.
    /// </summary>
    private (float[] Hidden, float[] Pooled) Reference(string[] chunks, float[]? weights)
    {
        var architecture = JsonNode.Parse(File.ReadAllText(Fixture(Path.Combine("architectures", "sdxl-tiny", "architecture.json"))))!;
        var encoders = architecture["text_encoders"]!.AsArray();
        var perEncoder = new List<(float[] States, int Width)>();
        float[] pooled = [];
        for (var e = 0; e < encoders.Count; e++)
        {
            var encoder = encoders[e]!;
            var tokenizer = ClipTokenizer.Load(Path.Combine(_folder, e == 0 ? "tokenizer" : "tokenizer_2"));
            using var session = new InferenceSession(Path.Combine(_folder, encoder["component"]!.GetValue<string>(), "model.onnx"));
            var all = new List<float>();
            var width = 0;
            for (var c = 0; c < chunks.Length; c++)
            {
                var ids = tokenizer.Encode(chunks[c]);
                using var results = session.Run([NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<int>(ids, [1, ids.Length]))]);
                var tensor = results.Single(r => r.Name == encoder["hidden_state"]!.GetValue<string>()).AsTensor<float>();
                width = tensor.Dimensions[2];
                var states = tensor.ToArray();
                if (weights is not null)
                {
                    var before = states.Average();
                    for (var t = 0; t < weights.Length; t++)
                        for (var k = 0; k < width; k++) states[t * width + k] *= weights[t];
                    var after = states.Average();
                    for (var k = 0; k < states.Length; k++) states[k] *= before / after;
                }
                all.AddRange(states);
                if (c == 0 && encoder["pooled"] is { } name) pooled = results.Single(r => r.Name == name.GetValue<string>()).AsEnumerable<float>().ToArray();
            }
            perEncoder.Add((all.ToArray(), width));
        }
        var result = new List<float>();
        for (var t = 0; t < chunks.Length * ClipTokenizer.ContextLength; t++)
            foreach (var (states, width) in perEncoder) result.AddRange(states.AsSpan(t * width, width).ToArray());
        return (result.ToArray(), pooled);
    }

    private static float MaxDifference(float[] a, float[] b) => a.Select((v, i) => Math.Abs(v - b[i])).Max();

    private static void AssertClose(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = MaxDifference(expected, actual);
        Assert.True(worst <= 1e-5f, $"{what}: max |engine − reference| = {worst:g3}");
        Assert.Contains(expected, v => v != 0);
    }
}
