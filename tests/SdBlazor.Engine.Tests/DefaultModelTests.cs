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
    private static GenerationEngine CreateEngine()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new EngineOptions
        {
            ModelsPath = DefaultModel.ModelsPath!,
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
        var cases = Directory.GetFiles(Path.Combine(DefaultModel.FixturesPath, "parity"), "*.json");
        Assert.NotEmpty(cases);
        foreach (var file in cases)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var c = json.RootElement;
            var request = new GenerationRequest
            {
                Prompt = c.GetProperty("prompt").GetString()!,
                NegativePrompt = c.TryGetProperty("negative_prompt", out var n) ? n.GetString()! : "",
                Seed = c.GetProperty("seed").GetInt64(),
                Steps = c.GetProperty("steps").GetInt32(),
                Sampler = c.GetProperty("sampler").GetString()!,
                CfgScale = c.GetProperty("cfg_scale").GetDouble(),
                Width = c.GetProperty("width").GetInt32(),
                Height = c.GetProperty("height").GetInt32(),
            };
            using var result = await engine.GenerateAsync(request, null, CancellationToken.None);
            using var reference = Image.Load<Rgb24>(Path.ChangeExtension(file, ".png"));

            var actual = Bytes(result.Images[0].Image);
            var expected = Bytes(reference);
            Assert.Equal(expected.Length, actual.Length);
            var off = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Count(d => d > 3);
            var fraction = (double)off / actual.Length;
            Assert.True(fraction < 0.01, $"{Path.GetFileName(file)}: {fraction:P2} of values differ by more than 3 levels");
        }
    }

    /// <summary><c>Fixtures/tokenizer_cases.json</c>: prompts and the ids the reference CLIP tokenizer gives for the default model's vocabulary.</summary>
    [DefaultModelFact("tokenizer_cases.json")]
    public void Tokenizer_matches_reference_ids()
    {
        var tokenizer = ClipTokenizer.Load(Path.Combine(DefaultModel.Path!, "tokenizer"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(DefaultModel.FixturesPath, "tokenizer_cases.json")));
        var cases = json.RootElement.ValueKind == JsonValueKind.Array ? json.RootElement : json.RootElement.GetProperty("cases");
        Assert.True(cases.GetArrayLength() > 0);
        foreach (var c in cases.EnumerateArray())
        {
            var text = (c.TryGetProperty("text", out var t) ? t : c.GetProperty("prompt")).GetString()!;
            var expected = (c.TryGetProperty("input_ids", out var ids) ? ids : c.GetProperty("ids")).EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var actual = expected.Length == ClipTokenizer.ContextLength ? tokenizer.Encode(text) : tokenizer.EncodeTokens(text).ToArray();
            Assert.True(expected.SequenceEqual(actual), $"'{text}': expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
        }
    }

    private static byte[] Bytes(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }
}
