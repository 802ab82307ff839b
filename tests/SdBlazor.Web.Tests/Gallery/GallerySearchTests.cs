using SdBlazor.Web.Gallery;

namespace SdBlazor.Web.Tests.Gallery;

/// <summary>Issue 33, defect 8: the search box's syntax, parsed and run against a real gallery index.</summary>
public sealed class GallerySearchTests
{
    [Fact]
    public void Parses_words_exclusions_phrases_and_fields_in_one_pass()
    {
        var s = GallerySearch.Parse("""fox -red "snowy  hill" -"blue sky" model:"My Model" sampler:Euler -seed:7 seed:42 -model:other (cat:1.2)""");
        Assert.Equal(["fox", "snowy", "hill", "cat"], s.Words);
        Assert.Equal(["red"], s.ExcludedWords);
        Assert.Equal(["snowy  hill"], s.Phrases);
        Assert.Equal(["blue sky"], s.ExcludedPhrases);
        Assert.Equal("My Model", s.Model);
        Assert.Equal("Euler", s.Sampler);
        Assert.Equal(42, s.Seed);
        Assert.Equal([7L], s.ExcludedSeeds);
        Assert.Equal(["other"], s.ExcludedModels);
    }

    [Theory]
    [InlineData("-", new string[0])]
    [InlineData("\"unclosed phrase", new[] { "unclosed", "phrase" })]
    [InlineData("seed:abc", new[] { "seed", "abc" })]
    [InlineData("http://x.org", new[] { "http", "org" })]
    [InlineData("a - b", new string[0])]
    public void Odd_input_is_plain_words(string text, string[] words) => Assert.Equal(words, GallerySearch.Parse(text).Words);

    [Fact]
    public void Hostile_input_is_bounded()
    {
        var s = GallerySearch.Parse(string.Concat(Enumerable.Repeat("-\"a b\" model:x ", 100_000)));
        Assert.True(s.ExcludedPhrases.Count + s.ExcludedWords.Count + (s.Model is null ? 0 : 1) <= GallerySearch.MaxTerms);
        Assert.Empty(GallerySearch.Parse(new string('"', 1_000_000)).Words);
    }

    [Fact]
    public async Task Searching_the_index_with_each_kind_of_term()
    {
        using var g = new TestGallery();
        var redFox = await g.SaveAsync("a red fox in snow", model: "model-a", seed: 1);
        var blueFox = await g.SaveAsync("a blue fox in snow", model: "model-b", seed: 2);
        var foxRed = await g.SaveAsync("fox, red scarf", model: "model-a", seed: 3);
        var car = await g.SaveAsync("a red car", model: "model-b", seed: 42);

        IEnumerable<string> Find(string search) => g.Index.Query(new GalleryQuery { Search = search }).Items.Select(i => i.Key).Order();
        Assert.Equal(Keys(blueFox), Find("-red"));
        Assert.Equal(Keys(blueFox), Find("fox -red"));
        Assert.Equal(Keys(redFox), Find("\"RED fox\""));
        Assert.Equal(Keys(blueFox, foxRed), Find("fox -\"red fox\""));
        Assert.Equal(Keys(blueFox, car), Find("model:MODEL-B"));
        Assert.Equal(Keys(car), Find("red model:model-b"));
        Assert.Equal(Keys(redFox, foxRed), Find("-model:model-b"));
        Assert.Equal(Keys(car), Find("seed:42"));
        Assert.Equal(Keys(redFox, blueFox, foxRed), Find("-seed:42"));
        Assert.Equal(Keys(redFox, blueFox, foxRed, car), Find("sampler:\"Euler a\""));
        Assert.Empty(Find("sampler:Euler"));
        // The filter menu and the search box together: both must hold.
        Assert.Empty(g.Index.Query(new GalleryQuery { Search = "model:model-a", Model = "model-b" }).Items);
    }

    private static IEnumerable<string> Keys(params GalleryImage[] images) => images.Select(i => i.Key).Order();
}
