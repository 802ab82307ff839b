using LiteDB;
using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Gallery;
using Xunit;

namespace SdBlazor.Web.Tests.Gallery;

/// <summary>Paging, search and filters on a real LiteDB file, checked against LINQ over the same rows.</summary>
public class GalleryQueryTests : IDisposable
{
    private static readonly string[] Vocabulary = ["castle", "forest", "river", "dragon", "cat", "dog", "neon", "rain", "猫", "ruins", "koi", "owl"];
    private static readonly string[] Models = ["alpha", "Beta Model", "gamma"];
    private static readonly string[] Samplers = ["Euler", "Euler a", "DPM++ 2M"];
    private static readonly DateTime Start = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly TestGallery _g = new();
    private readonly List<GalleryImage> _rows = [];

    public GalleryQueryTests()
    {
        var random = new Random(7);
        var batch = new List<(GalleryImage, GalleryThumbnail?)>();
        for (var i = 0; i < 400; i++)
        {
            // Several images share a second, so ids differ only after the timestamp.
            var created = Start.AddSeconds(i / 3 * 3600);
            var id = ImageIds.New(created);
            var prompt = string.Join(", ", Enumerable.Range(0, 4).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]));
            var p = new ImageParameters
            {
                Prompt = prompt,
                NegativePrompt = i % 5 == 0 ? "ugly rain" : "",
                Sampler = Samplers[random.Next(Samplers.Length)],
                Model = Models[random.Next(Models.Length)],
                Seed = i,
            };
            var (w, h) = i % 4 == 0 ? (768, 512) : (512, 512);
            var row = GalleryRows.From(id, created, $"images/x/{id}.png", 1, new EmbeddedMetadata(MetadataSource.SdBlazor, p, null, null, new Dictionary<string, string>()), w, h);
            row.Favourite = random.Next(4) == 0;
            if (random.Next(3) == 0) row.Albums.Add(random.Next(2) == 0 ? "Holiday" : "Work");
            if (i % 37 == 0) row.TrashedUtc = created;
            _rows.Add(row);
            batch.Add((row, null));
        }
        _g.Index.InsertMany(batch);
        _g.Reopen(); // read back from the file, not from anything cached
    }

    public void Dispose() => _g.Dispose();

    public static TheoryData<string, GalleryQuery> Queries => new()
    {
        { "all", new GalleryQuery() },
        { "oldest", new GalleryQuery { Sort = GallerySort.Oldest } },
        { "word", new GalleryQuery { Search = "castle" } },
        { "two words", new GalleryQuery { Search = "Dragon, KOI" } },
        { "negative word", new GalleryQuery { Search = "ugly" } },
        { "non-latin word", new GalleryQuery { Search = "猫" } },
        { "no match", new GalleryQuery { Search = "zebra" } },
        { "model", new GalleryQuery { Model = "beta model" } },
        { "sampler", new GalleryQuery { Sampler = "Euler a" } },
        { "size", new GalleryQuery { Width = 768, Height = 512 } },
        { "favourites", new GalleryQuery { FavouritesOnly = true } },
        { "album", new GalleryQuery { Album = "holiday" } },
        { "trash", new GalleryQuery { Trash = true } },
        { "dates", new GalleryQuery { FromUtc = Start.AddDays(5), ToUtc = Start.AddDays(9) } },
        { "everything", new GalleryQuery { Search = "cat", Model = "alpha", FavouritesOnly = true, Sort = GallerySort.Oldest } },
        { "search + dates + sampler", new GalleryQuery { Search = "river", Sampler = "Euler", FromUtc = Start.AddDays(2), ToUtc = Start.AddDays(40) } },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void Paging_through_all_pages_returns_exactly_the_matches_in_order(string name, GalleryQuery query)
    {
        var expected = Expected(query);

        var seen = new List<ObjectId>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = _g.Index.Query(query with { After = cursor, PageSize = 25 });
            Assert.True(page.Items.Count <= 25);
            seen.AddRange(page.Items.Select(i => i.Id));
            cursor = page.NextCursor;
            Assert.True(++pages < 100, $"{name}: paging does not end");
        } while (cursor is not null);

        Assert.Equal(expected, seen);
    }

    [Fact]
    public void The_oracle_is_not_trivial()
    {
        Assert.InRange(Expected(new GalleryQuery { Search = "castle" }).Count, 50, 250);
        Assert.InRange(Expected(new GalleryQuery { Search = "dragon koi" }).Count, 5, 100);
        Assert.InRange(Expected(new GalleryQuery { FromUtc = Start.AddDays(2), ToUtc = Start.AddDays(4) }).Count, 100, 200);
    }

    private List<ObjectId> Expected(GalleryQuery q)
    {
        var words = PromptWords.Tokenize(q.Search);
        var matches = _rows.Where(r => q.Matches(r, words))
            .Where(r => q.FromUtc is null || r.CreatedUtc >= q.FromUtc.Value.AddTicks(-(q.FromUtc.Value.Ticks % TimeSpan.TicksPerSecond)))
            .Where(r => q.ToUtc is null || r.CreatedUtc < q.ToUtc.Value.AddSeconds(1));
        // Newest first means id order: time first, then creation order within a second.
        var ordered = matches.Select(r => r.Id).OrderBy(id => id.ToString(), StringComparer.Ordinal);
        return (q.Sort == GallerySort.Newest ? ordered.Reverse() : ordered).ToList();
    }
}
