using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;

namespace SdBlazor.Engine.Tests.ImageTools;

/// <summary>Hires fix through the real engine: first pass, upscale, second pass through the img2img path.</summary>
public sealed class HiresFixTests : IDisposable
{
    private readonly EngineHarness _harness = new();

    private static GenerationRequest Request(string upscaler = "Latent") => new()
    {
        Prompt = "a cat", Steps = 6, Seed = 3, Sampler = "Euler",
        EnableHr = true, HrScale = 2, HrUpscaler = upscaler, HrSecondPassSteps = 4, Strength = 0.5,
    };

    [Theory]
    [InlineData("Latent")]
    [InlineData("Latent (nearest-exact)")]
    [InlineData("Lanczos")]
    public async Task Runs_both_passes_and_returns_the_hires_size(string upscaler)
    {
        var sink = new RecordingSink();
        using var result = await _harness.Engine.GenerateAsync(Request(upscaler), sink, CancellationToken.None);

        Assert.Equal((128, 128), (result.Images[0].Image.Width, result.Images[0].Image.Height));
        // First pass 6 steps; second pass: A1111 runs the hires steps exactly (a schedule of 4 / 0.5 = 8, last 4 run).
        Assert.Equal([1, 2, 3, 4, 5, 6, 1, 2, 3, 4], sink.Steps.Select(s => s.Step));
        Assert.Equal(16, sink.Steps[^1].LatentWidth);
    }

    [Fact]
    public async Task Infotext_is_written_as_A1111_writes_it_and_reads_back()
    {
        using var result = await _harness.Engine.GenerateAsync(Request() with { HrPrompt = "a big cat", HrSampler = "DPM++ 2M" }, null, CancellationToken.None);
        var infotext = Infotext.Format(result.Parameters.ToImageParameters(result.Images[0].Seed));

        Assert.Contains("Size: 64x64", infotext);
        Assert.Contains("Denoising strength: 0.5", infotext);
        Assert.Contains("Hires upscale: 2, Hires steps: 4, Hires upscaler: Latent, Hires sampler: DPM++ 2M, Hires prompt: a big cat", infotext);

        var parsed = Infotext.ToParameters(Infotext.Parse(infotext));
        Assert.Equal(new HiresSettings { Scale = 2, Steps = 4, Upscaler = "Latent", Sampler = "DPM++ 2M", Prompt = "a big cat" }, parsed.Hires);
        Assert.Equal(0.5, parsed.Strength);
        Assert.Equal((64, 64), (parsed.Width, parsed.Height));
    }

    [Fact]
    public async Task A_resize_box_of_another_aspect_is_cropped_from_the_middle()
    {
        using var result = await _harness.Engine.GenerateAsync(Request() with { HrResizeX = 128, HrResizeY = 96 }, null, CancellationToken.None);
        Assert.Equal((128, 96), (result.Images[0].Image.Width, result.Images[0].Image.Height));
        Assert.Contains("Hires resize: 128x96", Infotext.Format(result.Parameters.ToImageParameters(3)));
    }

    [Fact]
    public void The_validated_request_shows_the_hires_size_for_memory_estimates()
    {
        using var validated = new RequestValidator(_harness.Registry).Validate(Request() with { Width = 96, Height = 64, HrScale = 1.5 });
        Assert.Equal((144, 96), (validated.Hires!.Width, validated.Hires.Height));
    }

    [Theory]
    [InlineData("Nope", "Hires upscaler 'Nope' is unknown")]
    [InlineData("Latent", "Hires scale must be between")]
    public async Task Bad_requests_are_refused_with_a_clear_message(string upscaler, string start)
    {
        var request = Request(upscaler) with { HrScale = upscaler == "Latent" ? 9 : 2 };
        var ex = await Assert.ThrowsAsync<GenerationValidationException>(() => _harness.Engine.GenerateAsync(request, null, CancellationToken.None));
        Assert.StartsWith(start, ex.Message);
    }

    [Fact]
    public async Task Hires_fix_is_refused_for_img2img()
    {
        var ex = await Assert.ThrowsAsync<GenerationValidationException>(() =>
            _harness.Engine.GenerateAsync(Request() with { InitImage = [0x89, 0x50] }, null, CancellationToken.None));
        Assert.StartsWith("Hires fix is a txt2img tool", ex.Message);
    }

    public void Dispose() => _harness.Dispose();
}
