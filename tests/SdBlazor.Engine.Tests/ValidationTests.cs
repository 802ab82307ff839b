using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using Xunit;

namespace SdBlazor.Engine.Tests;

/// <summary>Every bad input is refused before any work, with a message that says what is allowed.</summary>
public sealed class ValidationTests : IDisposable
{
    private readonly EngineHarness _harness = new();
    private static readonly GenerationRequest Good = new() { Prompt = "a cat", Steps = 2, Seed = 1 };

    public static TheoryData<string, Func<GenerationRequest, GenerationRequest>, string> Cases => new()
    {
        { "prompt too long", r => r with { Prompt = new string('a', GenerationLimits.MaxPromptLength + 1) }, "at most 2000" },
        { "negative too long", r => r with { NegativePrompt = new string('a', GenerationLimits.MaxPromptLength + 1) }, "Negative prompt" },
        { "zero steps", r => r with { Steps = 0 }, "Steps must be between 1 and 150" },
        { "too many steps", r => r with { Steps = 151 }, "Steps must be between 1 and 150" },
        { "negative cfg", r => r with { CfgScale = -1 }, "CFG scale must be between 0 and 30" },
        { "huge cfg", r => r with { CfgScale = 31 }, "CFG scale must be between 0 and 30" },
        { "NaN cfg", r => r with { CfgScale = double.NaN }, "CFG scale" },
        { "width not multiple of 8", r => r with { Width = 100 }, "Width must be a multiple of 8 between 64 and 2048" },
        { "height too small", r => r with { Height = 56 }, "Height must be a multiple of 8 between 64 and 2048" },
        { "width too large", r => r with { Width = 2056 }, "Width must be a multiple of 8 between 64 and 2048" },
        { "batch size 0", r => r with { BatchSize = 0 }, "Batch size must be between 1 and 8" },
        { "batch size 9", r => r with { BatchSize = 9 }, "Batch size must be between 1 and 8" },
        { "batch count 0", r => r with { BatchCount = 0 }, "Batch count must be between 1 and 100" },
        { "batch count 101", r => r with { BatchCount = 101 }, "Batch count must be between 1 and 100" },
        { "seed below -1", r => r with { Seed = -2 }, "Seed must be" },
        { "unknown sampler", r => r with { Sampler = "Magic" }, "Valid samplers: Euler, Euler a, DDIM" },
        { "unknown schedule", r => r with { ScheduleType = "Cubic" }, "Valid schedule types: Automatic, Karras" },
        { "karras with DDIM", r => r with { Sampler = "DDIM", ScheduleType = "Karras" }, "cannot use the Karras schedule" },
        { "unknown model", r => r with { Model = "nope" }, "Unknown model 'nope'. Available models: tiny" },
        { "strength above 1", r => r with { InitImage = Png(), Strength = 1.5 }, "strength must be between 0 and 1" },
        { "strength below 0", r => r with { InitImage = Png(), Strength = -0.1 }, "strength must be between 0 and 1" },
        { "init image not an image", r => r with { InitImage = "not an image"u8.ToArray() }, "PNG, JPEG or WebP" },
        { "init image empty", r => r with { InitImage = [] }, "init image is empty" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_is_refused_with_a_clear_message(string name, Func<GenerationRequest, GenerationRequest> change, string expected)
    {
        var sink = new RecordingSink();
        var error = await Assert.ThrowsAsync<GenerationValidationException>(() => _harness.Engine.GenerateAsync(change(Good), sink, CancellationToken.None));

        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"{name}: '{error.Message}' lacks '{expected}'");
        Assert.Empty(sink.Steps);
        // Nothing was run: not even the model was loaded.
        Assert.Null(_harness.Engine.Resident);
    }

    [Fact]
    public async Task The_good_request_itself_passes()
    {
        using var result = await _harness.Engine.GenerateAsync(Good, null, CancellationToken.None);
        Assert.Single(result.Images);
    }

    private static byte[] Png()
    {
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(8, 8);
        using var stream = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, stream);
        return stream.ToArray();
    }

    public void Dispose() => _harness.Dispose();
}
