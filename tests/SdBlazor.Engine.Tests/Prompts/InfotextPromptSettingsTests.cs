using SdBlazor.Engine.Imaging;
using Xunit;

namespace SdBlazor.Engine.Tests.Prompts;

/// <summary>"Clip skip" and "Emphasis" in A1111's infotext: written as A1111 writes them, read back.</summary>
public sealed class InfotextPromptSettingsTests
{
    private static ImageParameters Parameters(int clipSkip, string emphasis, string prompt = "a (red) fox") => new()
    {
        Prompt = prompt, Steps = 20, Sampler = "Euler", CfgScale = 7, Seed = 1, Width = 512, Height = 512, Rng = "CPU",
        ClipSkip = clipSkip, Emphasis = emphasis,
    };

    [Fact]
    public void Clip_skip_is_written_only_above_1_before_rng_and_read_back()
    {
        var text = Infotext.Format(Parameters(2, "Original"));
        Assert.Contains("Denoising", Infotext.Format(Parameters(2, "Original") with { Strength = 0.5 }));
        Assert.Contains("Clip skip: 2, RNG: CPU", text);
        Assert.DoesNotContain("Emphasis", text);
        Assert.Equal(2, Infotext.ToParameters(Infotext.Parse(text)).ClipSkip);
        Assert.DoesNotContain("Clip skip", Infotext.Format(Parameters(1, "Original")));
        Assert.Equal(1, Infotext.ToParameters(Infotext.Parse(Infotext.Format(Parameters(1, "Original")))).ClipSkip);
    }

    [Fact]
    public void A_non_default_emphasis_is_written_when_the_prompt_has_brackets()
    {
        var text = Infotext.Format(Parameters(1, "No norm"));
        Assert.Contains("Emphasis: No norm", text);
        Assert.Equal("No norm", Infotext.ToParameters(Infotext.Parse(text)).Emphasis);
        Assert.DoesNotContain("Emphasis", Infotext.Format(Parameters(1, "No norm", prompt: "a red fox")));
    }
}
