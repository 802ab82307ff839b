using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using Xunit;

namespace SdBlazor.Engine.Tests.Prompts;

/// <summary>
/// Whole generations on the tiny model, whose UNet output depends on the mean of its text conditioning: prompt editing
/// switches the conditioning inside the denoising loop, and long prompts reach a UNet with a dynamic token axis.
/// </summary>
public sealed class PromptGenerationTests : IDisposable
{
    private readonly List<EngineHarness> _harnesses = [];

    private EngineHarness Harness(TinyModelOptions? model = null, FixedShapes fixedShapes = FixedShapes.Never)
    {
        var harness = new EngineHarness(model, configure: o => o.FixedUNetShapes = fixedShapes);
        _harnesses.Add(harness);
        return harness;
    }

    private static async Task<byte[]> Pixels(EngineHarness harness, string prompt, string negative = "dog", int steps = 6, string emphasis = "Original")
    {
        using var result = await harness.Engine.GenerateAsync(new GenerationRequest
        {
            Prompt = prompt, NegativePrompt = negative, Seed = 7, Steps = steps, CfgScale = 7, Emphasis = emphasis,
        }, null, CancellationToken.None);
        var image = Assert.Single(result.Images).Image;
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    [Fact]
    public async Task Prompt_editing_switches_the_conditioning_during_the_steps()
    {
        var harness = Harness();
        var cat = await Pixels(harness, "cat");
        var red = await Pixels(harness, "red");
        // Before at every step, after at every step, and the switch half way that matches neither.
        Assert.Equal(cat, await Pixels(harness, "[cat:red:1.0]"));
        Assert.Equal(red, await Pixels(harness, "[cat:red:0]"));
        var edited = await Pixels(harness, "[cat:red:0.5]");
        Assert.NotEqual(cat, edited);
        Assert.NotEqual(red, edited);
        var alternating = await Pixels(harness, "[cat|red]");
        Assert.NotEqual(cat, alternating);
        Assert.NotEqual(red, alternating);
    }

    [Fact]
    public async Task Emphasis_none_reads_brackets_as_text_and_plain_prompts_are_the_same_either_way()
    {
        var harness = Harness();
        Assert.Equal(await Pixels(harness, "a red cat, dog"), await Pixels(harness, "a red cat, dog", emphasis: "None"));
        Assert.NotEqual(await Pixels(harness, "a (red) cat"), await Pixels(harness, "a (red) cat", emphasis: "None"));
    }

    [Fact]
    public async Task Long_prompts_reach_a_unet_with_a_dynamic_token_axis_and_halves_of_different_length_run_separately()
    {
        var dynamic = Harness(new TinyModelOptions { DynamicTokens = true });
        var first = string.Join(" ", Enumerable.Repeat("cat", 75));
        var longPrompt = first + " " + string.Join(" ", Enumerable.Repeat("red", 30));
        var truncated = await Pixels(dynamic, first);
        // Two chunks against the one-chunk negative prompt: A1111's separate passes; the second chunk changes the image.
        var separate = await Pixels(dynamic, longPrompt);
        Assert.NotEqual(truncated, separate);

        // With a session per shape (DirectML's mode) the negative prompt is padded with the empty prompt instead
        // (A1111's pad_cond_uncond): the negative half's mean changes, and so does the image.
        var padded = await Pixels(Harness(new TinyModelOptions { DynamicTokens = true }, FixedShapes.Always), longPrompt);
        Assert.NotEqual(separate, padded);

        // A UNet fixed at 77 tokens sees only the first chunk.
        var fixed77 = Harness();
        Assert.Equal(await Pixels(fixed77, first), await Pixels(fixed77, longPrompt));
    }

    public void Dispose()
    {
        foreach (var harness in _harnesses) harness.Dispose();
    }
}
