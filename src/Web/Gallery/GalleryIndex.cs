using LiteDB;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Gallery;

/// <summary>Reads and writes the LiteDB index: image rows, their keyset keys, thumbnails and facet counts.</summary>
public sealed class GalleryIndex(GalleryDatabase db)
{
    private static readonly ObjectId MinId = ObjectId.Empty;
    private static readonly ObjectId MaxId = new(int.MaxValue, 0xFFFFFF, short.MaxValue, 0xFFFFFF);
    private const int MaxBatch = 2000;

    public GalleryDatabase Database => db;

    public void Insert(GalleryImage image, GalleryThumbnail? thumbnail) => db.InTransaction(() => InsertCore(image, thumbnail));

    /// <summary>Many rows in one transaction (rebuild, reconciliation): one commit instead of one per image.</summary>
    public void InsertMany(IReadOnlyCollection<(GalleryImage Image, GalleryThumbnail? Thumbnail)> rows) => db.InTransaction(() =>
    {
        foreach (var (image, thumbnail) in rows) InsertCore(image, thumbnail);
    });

    private void InsertCore(GalleryImage image, GalleryThumbnail? thumbnail)
    {
        db.Images.Insert(image);
        db.Keys.Upsert(GalleryKeys.FactsOf(image).Distinct().Select(f => new GalleryKey { Id = GalleryKeys.Compose(f, image.Id) }));
        db.Keys.Upsert(new GalleryKey { Id = GalleryKeys.File(image.FileName), ImageId = image.Id });
        if (thumbnail is not null) db.Thumbnails.Upsert(thumbnail);
        foreach (var facet in LiveFacetsOf(image)) AddToFacet(facet, +1);
    }

    /// <summary>Any image, whoever owns it: for server-side work, never for answering a caller.</summary>
    public GalleryImage? Get(ObjectId id) => db.Images.FindById(id);

    /// <summary>The image if <paramref name="scope"/> may see it; otherwise null, exactly as for an unknown id.</summary>
    public GalleryImage? Get(ObjectId id, AccountScope scope) => Get(id) is { } row && scope.Sees(row.Account) ? row : null;

    public GalleryImage? FindByFile(string fileName) =>
        db.Keys.FindById(GalleryKeys.File(fileName))?.ImageId is { } id ? Get(id) : null;

    public GalleryThumbnail? Thumbnail(ObjectId id) => db.Thumbnails.FindById(id);

    /// <summary>Saves a changed row, keeping its keys, file key and facet counts in step.</summary>
    public void Update(GalleryImage image) => db.InTransaction(() =>
    {
        var old = db.Images.FindById(image.Id) ?? throw new KeyNotFoundException($"Image {image.Id} is not in the gallery.");
        var oldFacts = GalleryKeys.FactsOf(old).ToHashSet();
        var newFacts = GalleryKeys.FactsOf(image).ToHashSet();
        foreach (var gone in oldFacts.Except(newFacts)) db.Keys.Delete(GalleryKeys.Compose(gone, image.Id));
        foreach (var added in newFacts.Except(oldFacts)) db.Keys.Upsert(new GalleryKey { Id = GalleryKeys.Compose(added, image.Id) });
        if (old.FileName != image.FileName)
        {
            db.Keys.Delete(GalleryKeys.File(old.FileName));
            db.Keys.Upsert(new GalleryKey { Id = GalleryKeys.File(image.FileName), ImageId = image.Id });
        }
        var oldFacets = LiveFacetsOf(old).ToHashSet();
        var newFacets = LiveFacetsOf(image).ToHashSet();
        foreach (var gone in oldFacets.Except(newFacets)) AddToFacet(gone, -1);
        foreach (var added in newFacets.Except(oldFacets)) AddToFacet(added, +1);
        db.Images.Update(image);
    });

    public void Remove(ObjectId id) => db.InTransaction(() =>
    {
        var old = db.Images.FindById(id);
        if (old is null) return;
        foreach (var fact in GalleryKeys.FactsOf(old)) db.Keys.Delete(GalleryKeys.Compose(fact, id));
        db.Keys.Delete(GalleryKeys.File(old.FileName));
        db.Thumbnails.Delete(id);
        foreach (var facet in LiveFacetsOf(old)) AddToFacet(facet, -1);
        db.Images.Delete(id);
    });

    public IReadOnlyList<GalleryImage> Children(ObjectId id, AccountScope scope)
    {
        var key = id.ToString();
        return db.Images.Find(x => x.ParentId == key).Where(x => x.TrashedUtc is null && scope.Sees(x.Account)).OrderBy(x => x.Id).ToList();
    }

    /// <summary>Every indexed file name with its image id (reads only the small file keys).</summary>
    public Dictionary<string, ObjectId> FileNames() =>
        db.Keys.Find(LiteDB.Query.StartsWith("_id", "p:"))
            .Where(k => k.ImageId is not null)
            .ToDictionary(k => k.Id[2..], k => k.ImageId!, StringComparer.Ordinal);

    /// <summary>Values of a facet (<c>model</c>, <c>sampler</c>, <c>size</c>) with their counts over the images <paramref name="scope"/> sees.</summary>
    public IReadOnlyList<(string Value, int Count)> FacetValues(string kind, AccountScope scope)
    {
        var prefix = FacetPrefix(scope.Account) + kind + ":";
        return db.Facets.Find(LiteDB.Query.StartsWith("_id", prefix))
            .Where(f => f.Count > 0)
            .Select(f => (f.Id[prefix.Length..], f.Count))
            .OrderByDescending(f => f.Count)
            .ToList();
    }

    /// <summary>Album names: every album for the owner, the albums holding their own live images for a member.</summary>
    public IReadOnlyList<string> AlbumNames(AccountScope scope) =>
        (scope.SeesAll ? db.Albums.FindAll().Select(a => a.Id) : FacetValues(AlbumFacet, scope).Select(f => f.Value))
            .OrderBy(a => a, StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>Member accounts with live images, for the owner's filter (read from the per-account facet counters, not the images).</summary>
    public IReadOnlyList<string> MemberAccounts() =>
        db.Facets.Find(LiteDB.Query.StartsWith("_id", "@"))
            .Where(f => f.Count > 0)
            .Select(f => f.Id[1..f.Id.IndexOf('|')])
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

    public void EnsureAlbum(string name)
    {
        if (db.Albums.FindById(name) is null) db.Albums.Upsert(new GalleryAlbum { Id = name, CreatedUtc = DateTime.UtcNow });
    }

    public int Count() => db.Images.Count();

    public GalleryPage Query(GalleryQuery query)
    {
        var pageSize = Math.Clamp(query.PageSize, 1, GalleryQuery.MaxPageSize);
        var search = GallerySearch.Parse(query.Search);
        var words = search.Words;
        // model: and sampler: in the search box narrow through the same keys as the filter menus.
        var keyed = query with { Model = query.Model ?? search.Model, Sampler = query.Sampler ?? search.Sampler };
        var fact = DrivingFact(keyed, words);
        var descending = query.Sort == GallerySort.Newest;

        var lo = query.FromUtc is { } from ? ImageIds.Lowest(from) : MinId;
        var hi = query.ToUtc is { } to ? ImageIds.Highest(to) : MaxId;
        ObjectId? exclude = null;
        if (ImageIds.TryParse(query.After, out var cursor))
        {
            if (descending) hi = cursor < hi ? cursor : hi;
            else lo = cursor > lo ? cursor : lo;
            exclude = cursor;
        }

        var results = new List<GalleryImage>(pageSize);
        // One more than a page: with a single condition every candidate matches, so one batch is enough.
        var batch = Math.Min(pageSize + 1, MaxBatch);
        var exhausted = false;
        while (results.Count < pageSize && !exhausted && lo <= hi)
        {
            var candidates = fact is null ? ScanImages(lo, hi, descending, batch) : ScanKeys(fact, RequiredFacts(keyed, words, fact), lo, hi, descending, batch);
            exhausted = candidates.Count < batch;
            foreach (var image in candidates)
            {
                if (image.Id == exclude) continue;
                if (!query.Matches(image, words) || !search.Matches(image)) continue;
                results.Add(image);
                if (results.Count == pageSize) break;
            }
            if (candidates.Count == 0) break;
            var last = candidates[^1].Id;
            if (descending) hi = last; else lo = last;
            exclude = last;
            batch = Math.Min(batch * 2, MaxBatch);
        }

        var next = results.Count == pageSize ? results[^1].Key : null;
        return new GalleryPage(results, next);
    }

    /// <summary>
    /// The key range that drives a query: the longest search word (likely the rarest), else the most selective
    /// filter; null means scanning the images themselves in id order.
    /// </summary>
    private static string? DrivingFact(GalleryQuery q, List<string> words)
    {
        if (words.Count > 0) return GalleryKeys.Word(words.OrderByDescending(w => w.Length).First());
        if (!string.IsNullOrWhiteSpace(q.Album)) return GalleryKeys.Album(q.Album);
        if (!string.IsNullOrWhiteSpace(q.Model)) return GalleryKeys.Model(q.Model);
        if (q.FavouritesOnly) return GalleryKeys.Favourite;
        if (q.Trash) return GalleryKeys.Trash;
        if (q is { Width: { } w, Height: { } h }) return GalleryKeys.Size(w, h);
        if (!string.IsNullOrWhiteSpace(q.Sampler)) return GalleryKeys.Sampler(q.Sampler);
        // Last: a member's own images are usually many, a search word or filter narrows harder.
        if (q.OwnedBy is { } owner) return GalleryKeys.Owner(owner == GalleryQuery.TheOwner ? null : owner);
        return null;
    }

    private List<GalleryImage> ScanImages(ObjectId lo, ObjectId hi, bool descending, int limit) =>
        db.Images.Query()
            .Where(LiteDB.Query.Between("_id", lo, hi))
            .OrderBy("_id", descending ? LiteDB.Query.Descending : LiteDB.Query.Ascending)
            .Limit(limit)
            .ToList();

    /// <summary>Facts a match must have besides the driving one; checked as key lookups before any row is loaded.</summary>
    private static List<string> RequiredFacts(GalleryQuery q, List<string> words, string driving)
    {
        var facts = words.Select(GalleryKeys.Word).ToList();
        if (!string.IsNullOrWhiteSpace(q.Album)) facts.Add(GalleryKeys.Album(q.Album));
        if (!string.IsNullOrWhiteSpace(q.Model)) facts.Add(GalleryKeys.Model(q.Model));
        if (q.FavouritesOnly) facts.Add(GalleryKeys.Favourite);
        if (q.Trash) facts.Add(GalleryKeys.Trash);
        if (q.OwnedBy is { } owner) facts.Add(GalleryKeys.Owner(owner == GalleryQuery.TheOwner ? null : owner));
        facts.Remove(driving);
        return facts;
    }

    private List<GalleryImage> ScanKeys(string fact, List<string> required, ObjectId lo, ObjectId hi, bool descending, int limit)
    {
        var keys = db.Keys.Query()
            .Where(LiteDB.Query.Between("_id", GalleryKeys.Compose(fact, lo), GalleryKeys.Compose(fact, hi)))
            .OrderBy("_id", descending ? LiteDB.Query.Descending : LiteDB.Query.Ascending)
            .Limit(limit)
            .ToList();
        var images = new List<GalleryImage>(keys.Count);
        foreach (var key in keys)
        {
            var id = GalleryKeys.IdOf(key.Id);
            if (!required.TrueForAll(f => db.Keys.FindById(GalleryKeys.Compose(f, id)) is not null))
            {
                // Not a match: a placeholder keeps the scan position without loading the row.
                images.Add(new GalleryImage { Id = id, Missing = true });
                continue;
            }
            // A key without its row (only possible after a crash between LiteDB pages) stands in as an empty, non-matching row
            // so paging still advances past it.
            images.Add(db.Images.FindById(id) ?? new GalleryImage { Id = id, Missing = true });
        }
        return images;
    }

    private const string AlbumFacet = "album";

    /// <summary>
    /// The facet counters a live image adds to: the gallery-wide ones, and for a member's image the same under the
    /// account's prefix plus its albums, so a member's filter menus list only values from their own images.
    /// </summary>
    private static IEnumerable<string> LiveFacetsOf(GalleryImage image)
    {
        if (image.TrashedUtc is not null || image.Missing) yield break;
        foreach (var facet in FacetsOf(image)) yield return facet;
        if (image.Account is null) yield break;
        var prefix = FacetPrefix(image.Account);
        foreach (var facet in FacetsOf(image)) yield return prefix + facet;
        foreach (var album in image.Albums.DistinctBy(PromptWords.Facet)) yield return prefix + AlbumFacet + ":" + album;
    }

    private static IEnumerable<string> FacetsOf(GalleryImage image)
    {
        if (!string.IsNullOrWhiteSpace(image.Model)) yield return "model:" + image.Model;
        if (!string.IsNullOrWhiteSpace(image.Sampler)) yield return "sampler:" + image.Sampler;
        yield return $"size:{image.Width}x{image.Height}";
    }

    // Account ids are letters, digits, '.', '-' and '_': '@' and '|' cannot clash with a facet kind or an account.
    private static string FacetPrefix(string? account) => account is null ? "" : "@" + account + "|";

    private void AddToFacet(string id, int delta)
    {
        var facet = db.Facets.FindById(id) ?? new GalleryFacet { Id = id };
        facet.Count += delta;
        db.Facets.Upsert(facet);
    }

}
