using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Engine.Tokenization;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests;

/// <summary>End to end with the embedded default model, and parity with torch reference images made from the same weights.</summary>
public sealed class DefaultModelTests
{
    private static GenerationEngine CreateEngine(string? modelsPath = null)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new EngineOptions
        {
            ModelsPath = modelsPath ?? DefaultModel.ModelsPath!,
            ExecutionProvider = ExecutionProviderKind.Cpu,
        });
        return new GenerationEngine(new ModelRegistry(options, NullLogger<ModelRegistry>.Instance),
            new SessionFactory(options, NullLogger<SessionFactory>.Instance), options, NullLogger<GenerationEngine>.Instance);
    }

    [DefaultModelFact]
    public void Default_model_folder_is_complete_and_valid()
    {
        var folder = ModelFolder.Open(DefaultModel.Path!);
        Assert.True(folder.NativeWidth >= 64);
        Assert.NotNull(folder.PreviewFactors);
    }

    [DefaultModelFact]
    public async Task Txt2img_and_img2img_run_on_the_default_model()
    {
        using var engine = CreateEngine();
        var request = new GenerationRequest { Prompt = "a red circle on a blue background", Seed = 3, Steps = 8 };
        var sink = new RecordingSink();
        using var result = await engine.GenerateAsync(request, sink, CancellationToken.None);

        var descriptor = engine.ListModels().Single(m => m.Name == DefaultModel.Name);
        Assert.Equal((descriptor.NativeWidth, descriptor.NativeHeight), (result.Images[0].Image.Width, result.Images[0].Image.Height));
        Assert.Equal(8, sink.Steps.Count);

        if (!descriptor.SupportsImg2Img) return;
        using var png = new MemoryStream();
        result.Images[0].Image.SaveAsPng(png);
        using var again = await engine.GenerateAsync(request with { InitImage = png.ToArray(), Strength = 0.5 }, null, CancellationToken.None);
        Assert.Single(again.Images);
    }

    /// <summary>
    /// <c>Fixtures/parity/*.json|png</c>: torch references (the model engineer's reference sampler, diffusers Euler semantics).
    /// Each image must match within a few 8-bit levels on all but under 1% of the values.
    /// </summary>
    [DefaultModelFact("parity")]
    public async Task Matches_torch_reference_images()
    {
        using var engine = CreateEngine();
        await ParityCases.AssertAllMatch(engine, Path.Combine(DefaultModel.FixturesPath, "parity"));
    }

    /// <summary><c>Fixtures/sdblazor-mini-fp16</c>: the default model exported fully in float16 gives nearly the same image.</summary>
    [DefaultModelFact("sdblazor-mini-fp16")]
    public async Task Float16_export_matches_the_float32_model()
    {
        var request = new GenerationRequest { Prompt = "a red circle on a blue background, top left", Seed = 42, Steps = 12 };
        using var fp32Engine = CreateEngine();
        using var fp32 = await fp32Engine.GenerateAsync(request, null, CancellationToken.None);
        using var fp16Engine = CreateEngine(DefaultModel.FixturesPath);
        using var fp16 = await fp16Engine.GenerateAsync(request with { Model = "sdblazor-mini-fp16" }, null, CancellationToken.None);

        Assert.Equal(Onnx.SessionFactory.Cpu, fp16.Parameters.ExecutionProvider);
        Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16, fp16Engine.Resident!.UNet.SampleType);
        var differences = ParityCases.Bytes(fp32.Images[0].Image).Zip(ParityCases.Bytes(fp16.Images[0].Image), (a, b) => Math.Abs(a - b)).ToArray();
        Assert.True(differences.Average() < 3, $"mean difference {differences.Average():F2} levels");
    }

    /// <summary><c>Fixtures/tokenizer_cases.json</c>: prompts and the ids the reference CLIP tokenizer gives for the default model's vocabulary.</summary>
    [DefaultModelFact("tokenizer_cases.json", tokenizerOnly: true)]
    public void Tokenizer_matches_reference_ids()
    {
        var tokenizer = ClipTokenizer.Load(Path.Combine(DefaultModel.Path!, "tokenizer"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(DefaultModel.FixturesPath, "tokenizer_cases.json")));
        var root = json.RootElement;
        var cases = root.ValueKind == JsonValueKind.Array ? root : root.GetProperty("cases");
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("pad_token_id", out var pad))
        {
            Assert.Equal(pad.GetInt32(), tokenizer.PadId);
            Assert.Equal(root.GetProperty("bos_token_id").GetInt32(), tokenizer.BosId);
            Assert.Equal(root.GetProperty("eos_token_id").GetInt32(), tokenizer.EosId);
        }
        Assert.True(cases.GetArrayLength() > 0);
        foreach (var c in cases.EnumerateArray())
        {
            var text = (c.TryGetProperty("text", out var t) ? t : c.GetProperty("prompt")).GetString()!;
            var expected = (c.TryGetProperty("input_ids", out var ids) ? ids : c.GetProperty("ids")).EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var actual = expected.Length == ClipTokenizer.ContextLength ? tokenizer.Encode(text) : tokenizer.EncodeTokens(text).ToArray();
            Assert.True(expected.SequenceEqual(actual), $"'{text}': expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
        }
    }
}
