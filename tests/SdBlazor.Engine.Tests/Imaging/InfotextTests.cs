using SdBlazor.Engine.Imaging;

namespace SdBlazor.Engine.Tests.Imaging;

public class InfotextTests
{
    private static ImageParameters Sample(string prompt = "a cat, sitting: on a mat", string negative = "blurry, low quality") => new()
    {
        Prompt = prompt,
        NegativePrompt = negative,
        Seed = 965400086,
        Steps = 20,
        CfgScale = 7.5,
        Sampler = "DPM++ 2M",
        ScheduleType = "Karras",
        Width = 512,
        Height = 768,
        Model = "sdblazor-mini",
        ModelSha256 = "45DEE52B0123456789abcdef",
        Rng = "CPU",
        EngineVersion = "SdBlazor 0.1",
    };

    [Fact]
    public void Format_writes_the_a1111_layout_with_pairs_in_a1111_order()
    {
        var text = Infotext.Format(Sample());

        Assert.Equal(
            "a cat, sitting: on a mat\n" +
            "Negative prompt: blurry, low quality\n" +
            "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.5, Seed: 965400086, Size: 512x768, " +
            "Model hash: 45dee52b01, Model: sdblazor-mini, RNG: CPU, Version: SdBlazor 0.1",
            text);
    }

    [Fact]
    public void Negative_prompt_line_is_left_out_when_empty()
    {
        var text = Infotext.Format(Sample(negative: ""));
        Assert.DoesNotContain("Negative prompt", text);
        Assert.Equal("", Infotext.Parse(text).NegativePrompt);
    }

    [Theory]
    [InlineData("simple prompt")]
    [InlineData("commas, and: colons, (weights:1.2), [brackets]")]
    [InlineData("quotes \"inside\" and a \\ backslash")]
    [InlineData("first line\nsecond line, with comma\nthird: line")]
    [InlineData("日本語のプロンプト, 猫, Ελληνικά, русский, emoji 🐱")]
    public void Parse_of_formatted_text_gives_back_the_parameters(string prompt)
    {
        var original = Sample(prompt, negative: "ugly, \"bad\" hands\nsecond: negative line") with
        {
            Model = "model, with: comma",
            Strength = 0.55,
        };

        var parsed = Infotext.ToParameters(Infotext.Parse(Infotext.Format(original)));

        Assert.Equal(original.Prompt, parsed.Prompt);
        Assert.Equal(original.NegativePrompt, parsed.NegativePrompt);
        Assert.Equal(original.Seed, parsed.Seed);
        Assert.Equal(original.Steps, parsed.Steps);
        Assert.Equal(original.CfgScale, parsed.CfgScale);
        Assert.Equal(original.Sampler, parsed.Sampler);
        Assert.Equal(original.ScheduleType, parsed.ScheduleType);
        Assert.Equal(original.Width, parsed.Width);
        Assert.Equal(original.Height, parsed.Height);
        Assert.Equal(original.Model, parsed.Model);
        Assert.Equal("45dee52b01", parsed.ModelHash);
        Assert.Equal(original.Strength, parsed.Strength);
        Assert.Equal("CPU", parsed.Rng);
        Assert.Equal(original.EngineVersion, parsed.EngineVersion);
    }

    [Fact]
    public void Values_with_comma_colon_or_newline_are_json_quoted_like_python_json_dumps()
    {
        var text = Infotext.Format(Sample() with { Model = "a, \"b\": ü\nc" });
        // ensure_ascii=False: non-ASCII stays as is; quotes, backslashes and newlines are escaped.
        Assert.Contains("Model: \"a, \\\"b\\\": ü\\nc\"", text);
    }

    [Fact]
    public void Parses_a_real_a1111_infotext_with_defaults_for_missing_keys()
    {
        const string text = """
            masterpiece, 1girl, (blue eyes:1.2)
            Negative prompt: lowres, bad anatomy
            Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 3405691582, Size: 640x960, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Lora hashes: "add_detail: 7c6bad76eb54", Version: v1.6.0
            """;

        var data = Infotext.Parse(text);
        var p = Infotext.ToParameters(data);

        Assert.Equal("masterpiece, 1girl, (blue eyes:1.2)", p.Prompt);
        Assert.Equal("lowres, bad anatomy", p.NegativePrompt);
        Assert.Equal(28, p.Steps);
        Assert.Equal("DPM++ 2M", p.Sampler);       // old combined name split
        Assert.Equal("Karras", p.ScheduleType);
        Assert.Equal(7, p.CfgScale);
        Assert.Equal(3405691582L, p.Seed);
        Assert.Equal((640, 960), (p.Width, p.Height));
        Assert.Equal("6ce0161689", p.ModelHash);
        Assert.Equal("GPU", p.Rng);                // A1111 default when RNG is absent
        Assert.Equal("add_detail: 7c6bad76eb54", data.Get("Lora hashes"));
    }

    [Fact]
    public void A_last_line_with_fewer_than_three_pairs_belongs_to_the_prompt()
    {
        var data = Infotext.Parse("a photo\nstyle: anime, mood: calm");
        Assert.Equal("a photo\nstyle: anime, mood: calm", data.Prompt);
        Assert.Empty(data.Pairs);
    }

    [Fact]
    public void Lines_are_trimmed_and_later_lines_after_negative_prompt_join_the_negative()
    {
        var data = Infotext.Parse("  a\n  b  \nNegative prompt:   x  \ny\nSteps: 1, Sampler: Euler, Seed: 2");
        Assert.Equal("a\nb", data.Prompt);
        Assert.Equal("x\ny", data.NegativePrompt);
    }

    [Fact]
    public void Garbage_never_throws()
    {
        foreach (var s in new[] { "", "\n\n", "Steps: \"unterminated, Sampler: x, Seed: y", ":::,,,", "Negative prompt:" })
        {
            var p = Infotext.ToParameters(Infotext.Parse(s));
            Assert.NotNull(p);
        }
    }
}
