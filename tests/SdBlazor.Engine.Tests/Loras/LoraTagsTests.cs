using SdBlazor.Engine.Loras;

namespace SdBlazor.Engine.Tests.Loras;

/// <summary>A1111's extra-network tags: removed from the text, LoRA multipliers read positionally or by name, problems warned.</summary>
public sealed class LoraTagsTests
{
    private static (string Text, IReadOnlyList<LoraTag> Tags, List<string> Warnings) Extract(string prompt)
    {
        var warnings = new List<string>();
        var (text, tags) = LoraTags.Extract(prompt, warnings);
        return (text, tags, warnings);
    }

    [Fact]
    public void One_weight_sets_both_multipliers_and_the_tag_leaves_the_text()
    {
        var (text, tags, warnings) = Extract("a <lora:film_grain:0.6> cat");
        Assert.Equal("a  cat", text);
        Assert.Equal(new LoraTag("film_grain", 0.6f, 0.6f), Assert.Single(tags));
        Assert.Empty(warnings);
    }

    [Fact]
    public void Two_weights_are_text_encoder_then_unet_and_named_ones_work_too()
    {
        var (text, tags, _) = Extract("<lora:a:0.5:0.8>, (red:1.2) <lyco:b> <LORA:c:unet=0.3:te=-0.2> <lora:d:1:1:8>");
        Assert.Equal(", (red:1.2)   ", text);
        Assert.Equal([new LoraTag("a", 0.5f, 0.8f), new LoraTag("b", 1f, 1f), new LoraTag("c", -0.2f, 0.3f), new LoraTag("d", 1f, 1f)], tags);
    }

    [Fact]
    public void Other_types_bad_numbers_and_empty_names_are_removed_with_warnings()
    {
        var (text, tags, warnings) = Extract("x <hypernet:h:1> <lora:a:abc> <lora: :1> <lora:big:50> <not a tag> <b>");
        Assert.Equal("x     <not a tag> <b>", text);
        Assert.Equal([new LoraTag("a", 1f, 1f), new LoraTag("big", 50f, 50f)], tags);
        Assert.Equal(4, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("hypernet"));
        Assert.Contains(warnings, w => w.Contains("'abc' is not a number"));
        Assert.Contains(warnings, w => w.Contains("names no LoRA"));
        Assert.Contains(warnings, w => w.Contains("multiplier 50 is outside ±10; applied as written"));
    }

    [Fact]
    public void A_prompt_without_tags_is_unchanged()
    {
        var (text, tags, warnings) = Extract("(masterpiece:1.2), [a:b:0.4] <3");
        Assert.Equal("(masterpiece:1.2), [a:b:0.4] <3", text);
        Assert.Empty(tags);
        Assert.Empty(warnings);
    }
}
