using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tokenization;
using SdBlazor.Shared;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>
/// The tiny SDXL checkpoint generates, and what its UNet receives (encoder_hidden_states, text_embeds, time_ids over the
/// [uncond…, cond…] batch) equals the conditioning assembled here by diffusers' formula from the two text encoder graphs
/// run directly: CLIP-L hidden_states[-2] ‖ bigG hidden_states[-2], bigG's projected pooled output, [h, w, 0, 0, h, w],
/// zeros for an empty negative prompt (force_zeros_for_empty_prompt).
/// </summary>
public sealed class SdxlPipelineTests : IDisposable
{
    private readonly CheckpointHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", name);

    private async Task<string> ImportAsync()
    {
        File.Copy(Fixture("sdxl-tiny.safetensors"), Path.Combine(_h.ModelsPath, "sdxl-tiny.safetensors"));
        _h.Engine.Engine.RefreshModels();
        Assert.Null(_h.Engine.Engine.ListModels().Single(m => m.Name == "sdxl-tiny").Error);
        await _h.Engine.Engine.PreloadAsync("sdxl-tiny");
        return Assert.Single(Directory.GetDirectories(_h.CachePath, "sdxl-tiny-*"));
    }

    [Theory]
    [InlineData("", 2)]
    [InlineData("blurry, ugly", 1)]
    public async Task The_unet_gets_the_conditioning_diffusers_builds_from_both_text_encoders(string negative, int batch)
    {
        var folder = await ImportAsync();
        const string prompt = "a lighthouse at dusk, oil painting";
        using (var result = await _h.Engine.Engine.GenerateAsync(new GenerationRequest
               {
                   Prompt = prompt, NegativePrompt = negative, Seed = 3, Steps = 2, CfgScale = 6, Model = "sdxl-tiny",
                   Sampler = "Euler", Width = 64, Height = 128, BatchSize = batch,
               }, null, CancellationToken.None))
        {
            Assert.Equal(batch, result.Images.Count);
            Assert.All(result.Images, i => Assert.Equal((64, 128), (i.Image.Width, i.Image.Height)));
            Assert.Empty(result.Parameters.Warnings);
        }

        var (cond, pooled) = Reference(folder, prompt);
        var (uncond, negativePooled) = negative == "" ? (new float[cond.Length], new float[pooled.Length]) : Reference(folder, negative);
        var unet = _h.Engine.Engine.Resident!.UNet;
        Assert.Equal(2 * batch, unet.Batch);
        var expectedHidden = Rows(batch, uncond).Concat(Rows(batch, cond)).ToArray();
        var expectedPooled = Rows(batch, negativePooled).Concat(Rows(batch, pooled)).ToArray();
        var expectedTimeIds = Enumerable.Repeat(new float[] { 128, 64, 0, 0, 128, 64 }, 2 * batch).SelectMany(r => r).ToArray();
        AssertClose("encoder_hidden_states", expectedHidden, unet.EncoderHiddenStates.ToArray());
        AssertClose("text_embeds", expectedPooled, unet.TextEmbeds.ToArray());
        Assert.Equal(expectedTimeIds, unet.TimeIds.ToArray());
    }

    [Fact]
    public async Task Without_a_size_it_generates_at_the_models_native_size()
    {
        await ImportAsync();
        var model = _h.Engine.Engine.ListModels().Single(m => m.Name == "sdxl-tiny");
        // The tiny graphs' sample_size is 8 latents (64 px); the full SDXL graph set's is 128 (1024 px).
        Assert.Equal((64, 64), (model.NativeWidth, model.NativeHeight));
        using var result = await _h.Engine.Engine.GenerateAsync(new GenerationRequest
        {
            Prompt = "a cat", Seed = 1, Steps = 1, CfgScale = 1, Model = "sdxl-tiny", Sampler = "Euler",
        }, null, CancellationToken.None);
        Assert.Equal((64, 64), (result.Parameters.Width, result.Parameters.Height));
        Assert.Equal(1, _h.Engine.Engine.Resident!.UNet.Batch);
    }

    [Fact]
    public async Task An_sdxl_diffusers_onnx_folder_is_detected_and_generates_with_sdxl_previews()
    {
        var converted = await ImportAsync();
        var folder = Path.Combine(_h.ModelsPath, "xl-folder");
        CopyDirectory(converted, folder);
        _h.Engine.Engine.RefreshModels();
        Assert.Contains(_h.Engine.Engine.ListModels(), m => m.Name == "xl-folder" && m.Error is null);

        var steps = new List<StepProgress>();
        using var result = await _h.Engine.Engine.GenerateAsync(new GenerationRequest
        {
            Prompt = "a cat", NegativePrompt = "", Seed = 2, Steps = 2, CfgScale = 3, Model = "xl-folder", Sampler = "Euler",
        }, new StepSink(steps), CancellationToken.None);
        Assert.Single(result.Images);
        Assert.True(_h.Engine.Engine.Resident!.IsSdxl);
        Assert.Same(Previews.LatentRgbFactors.StableDiffusionXL, _h.Engine.Engine.Resident.Folder.PreviewFactors);
        Assert.NotEmpty(steps);
    }

    [Fact]
    public async Task A_folder_whose_sdxl_parts_are_missing_fails_with_a_message_naming_them()
    {
        var converted = await ImportAsync();
        // model_index.json names text_encoder_2 but the graph is gone: skipped at listing, with the reason logged.
        var missing = Path.Combine(_h.ModelsPath, "no-te2");
        CopyDirectory(converted, missing);
        Directory.Delete(Path.Combine(missing, "text_encoder_2"), recursive: true);
        // No text_encoder_2 anywhere, but the UNet takes SDXL's inputs: refused when loading, the queue goes on.
        var stripped = Path.Combine(_h.ModelsPath, "stripped");
        CopyDirectory(converted, stripped);
        Directory.Delete(Path.Combine(stripped, "text_encoder_2"), recursive: true);
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(stripped, "model_index.json")))!.AsObject();
        index.Remove("text_encoder_2");
        File.WriteAllText(Path.Combine(stripped, "model_index.json"), index.ToJsonString());
        _h.Engine.Engine.RefreshModels();

        Assert.DoesNotContain(_h.Engine.Engine.ListModels(), m => m.Name == "no-te2");
        Assert.Contains(_h.Engine.Logs.Entries, e => e.Message.Contains("text_encoder_2/model.onnx is missing", StringComparison.Ordinal));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => _h.Engine.Engine.GenerateAsync(
            new GenerationRequest { Prompt = "x", Seed = 1, Steps = 1, Model = "stripped" }, null, CancellationToken.None));
        Assert.Contains("text_encoder_2 is missing", error.Message);
        using var after = await _h.Engine.Engine.GenerateAsync(new GenerationRequest { Prompt = "x", Seed = 1, Steps = 1, Model = "tiny" }, null, CancellationToken.None);
        Assert.Single(after.Images);
    }

    private sealed class StepSink(List<StepProgress> steps) : IStepProgressSink
    {
        public void OnStep(in StepProgress progress) => steps.Add(progress);
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var dir in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, dir)));
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(target, Path.GetRelativePath(source, file)));
    }

    private static IEnumerable<float> Rows(int count, float[] row) => Enumerable.Repeat(row, count).SelectMany(r => r);

    /// <summary>The two encoders run on their own, their outputs picked by the names architecture.json gives, concatenated per token.</summary>
    private static (float[] Hidden, float[] Pooled) Reference(string folder, string prompt)
    {
        var architecture = JsonNode.Parse(File.ReadAllText(Fixture(Path.Combine("architectures", "sdxl-tiny", "architecture.json"))))!;
        var encoders = architecture["text_encoders"]!.AsArray();
        var parts = new List<(float[] States, int Width)>();
        float[] pooled = [];
        for (var e = 0; e < encoders.Count; e++)
        {
            var encoder = encoders[e]!;
            var tokenizer = ClipTokenizer.Load(Path.Combine(folder, e == 0 ? "tokenizer" : "tokenizer_2"));
            var ids = tokenizer.Encode(prompt);
            using var session = new InferenceSession(Path.Combine(folder, encoder["component"]!.GetValue<string>(), "model.onnx"));
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<int>(ids, [1, ids.Length]))]);
            var states = results.Single(r => r.Name == encoder["hidden_state"]!.GetValue<string>()).AsTensor<float>();
            parts.Add((states.ToArray(), states.Dimensions[2]));
            if (encoder["pooled"] is { } name) pooled = results.Single(r => r.Name == name.GetValue<string>()).AsEnumerable<float>().ToArray();
        }
        var hidden = parts.Sum(p => p.Width);
        Assert.Equal(48, hidden); // the tiny UNet's cross_attention_dim: 16 + 32
        var result = new List<float>();
        for (var t = 0; t < ClipTokenizer.ContextLength; t++)
            foreach (var (states, width) in parts) result.AddRange(states.AsSpan(t * width, width).ToArray());
        Assert.Equal(32, pooled.Length);
        return (result.ToArray(), pooled);
    }

    private static void AssertClose(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Select((v, i) => Math.Abs(v - actual[i])).Max();
        Assert.True(worst <= 1e-5f, $"{what}: max |engine − reference| = {worst:g3}");
        Assert.Contains(expected, v => v != 0);
    }
}
