using SdBlazor.Web.Sharing;
using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Gallery;
using Xunit;

namespace SdBlazor.Web.Tests.Gallery;

public class GalleryStoreTests
{
    [Fact]
    public async Task Save_writes_a_png_with_a1111_and_own_metadata_and_indexes_it()
    {
        using var g = new TestGallery();
        var parameters = TestGallery.Parameters("a castle, on a hill: at \"dawn\"\nsecond line, 猫") with { Strength = 0.4, ParentId = "0123456789abcdef01234567", Duration = TimeSpan.FromSeconds(3) };
        using var image = TestGallery.MakeImage();

        var row = await g.Store.SaveAsync(image, parameters);

        var path = g.Files.FullPath(row.FileName);
        Assert.Matches(@"^images/\d{4}/\d{2}/[0-9a-f]{24}\.png$", row.FileName);
        Assert.Equal($"{row.Id}.png", Path.GetFileName(path));
        Assert.Empty(Directory.EnumerateFiles(g.Folder, "*.tmp", SearchOption.AllDirectories));

        await using var file = File.OpenRead(path);
        var metadata = EmbeddedMetadata.From(PngTextChunks.Read(file));
        Assert.Equal(MetadataSource.SdBlazor, metadata.Source);
        Assert.Equal(parameters, metadata.Parameters);
        Assert.Equal(row.Key, metadata.Id);
        Assert.Equal(parameters.Prompt, Infotext.Parse(metadata.Texts["parameters"]).Prompt);

        var stored = g.Index.Get(row.Id)!;
        Assert.Equal(parameters.Prompt, stored.Prompt);
        Assert.Equal("0123456789abcdef01234567", stored.ParentId);
        Assert.Equal(3000, stored.DurationMs);
        Assert.Contains("猫", stored.Words);
        Assert.Contains("castle", stored.Words);
        var thumb = g.Index.Thumbnail(row.Id)!;
        Assert.Equal("RIFF"u8.ToArray(), thumb.Data[..4]);
        Assert.Equal("WEBP"u8.ToArray(), thumb.Data[8..12]);
    }

    [Fact]
    public async Task Trash_moves_the_file_hides_the_image_and_restore_undoes_it()
    {
        using var g = new TestGallery();
        var keep = await g.SaveAsync("keep me");
        var gone = await g.SaveAsync("delete me");
        var originalFile = gone.FileName;

        Assert.Equal([gone.Id], g.Store.Trash([gone.Id]));

        Assert.False(g.Files.Exists(originalFile));
        Assert.True(g.Files.Exists(GalleryFiles.TrashNameFor(gone.Id)));
        Assert.Equal([keep.Id], g.Index.Query(new GalleryQuery()).Items.Select(i => i.Id));
        Assert.Equal([gone.Id], g.Index.Query(new GalleryQuery { Trash = true }).Items.Select(i => i.Id));
        Assert.Empty(g.Index.Query(new GalleryQuery { Search = "delete" }).Items);

        g.Store.Restore([gone.Id]);

        Assert.True(g.Files.Exists(originalFile));
        Assert.Equal([gone.Id, keep.Id], g.Index.Query(new GalleryQuery()).Items.Select(i => i.Id));
        Assert.Empty(g.Index.Query(new GalleryQuery { Trash = true }).Items);

        g.Store.Trash([gone.Id]);
        Assert.Equal(1, g.Store.EmptyTrash());
        Assert.Null(g.Index.Get(gone.Id));
        Assert.False(g.Files.Exists(GalleryFiles.TrashNameFor(gone.Id)));
        Assert.Null(g.Index.Thumbnail(gone.Id));
    }

    [Fact]
    public async Task Favourites_and_albums_are_filterable_and_counted_facets_follow_the_trash()
    {
        using var g = new TestGallery();
        var a = await g.SaveAsync("red fox", model: "model-a");
        var b = await g.SaveAsync("blue fox", model: "model-b");

        g.Store.SetFavourite(a.Id, true);
        g.Store.AddToAlbum([a.Id, b.Id], "Foxes");
        g.Store.AddToAlbum([b.Id], "Blue things");

        Assert.Equal([a.Id], g.Index.Query(new GalleryQuery { FavouritesOnly = true }).Items.Select(i => i.Id));
        Assert.Equal([b.Id, a.Id], g.Index.Query(new GalleryQuery { Album = "foxes" }).Items.Select(i => i.Id));
        Assert.Equal([b.Id], g.Index.Query(new GalleryQuery { Album = "Blue things", Search = "fox" }).Items.Select(i => i.Id));
        Assert.Equal(["Blue things", "Foxes"], g.Index.AlbumNames(AccountScope.Everything));

        g.Store.SetFavourite(a.Id, false);
        g.Store.RemoveFromAlbum(b.Id, "foxes");
        Assert.Empty(g.Index.Query(new GalleryQuery { FavouritesOnly = true }).Items);
        Assert.Equal([a.Id], g.Index.Query(new GalleryQuery { Album = "Foxes" }).Items.Select(i => i.Id));

        Assert.Equal([("model-a", 1), ("model-b", 1)], g.Index.FacetValues("model", AccountScope.Everything).OrderBy(f => f.Value));
        g.Store.Trash([b.Id]);
        Assert.Equal([("model-a", 1)], g.Index.FacetValues("model", AccountScope.Everything));
    }

    [Fact]
    public async Task Lineage_lists_children_of_a_parent()
    {
        using var g = new TestGallery();
        var parent = await g.SaveAsync("parent");
        using var image = TestGallery.MakeImage();
        var child = await g.Store.SaveAsync(image, TestGallery.Parameters("child") with { ParentId = parent.Key, Strength = 0.5 });

        Assert.Equal([child.Id], g.Index.Children(parent.Id, AccountScope.Everything).Select(c => c.Id));
        Assert.Equal(parent.Key, g.Index.Get(child.Id)!.ParentId);
    }
}

public class GalleryEngineResultTests
{
    [Fact]
    public async Task An_engine_result_is_saved_image_by_image_with_each_seed_and_the_parent()
    {
        using var g = new TestGallery();
        var parent = await g.SaveAsync("init image");
        var resolved = new SdBlazor.Engine.Pipelines.ResolvedParameters("two cats, sleeping", "dogs", "sdblazor-mini", new string('c', 64), "DPM++ 2M", "Karras",
            25, 6.5, 1000, 64, 48, 2, 1, 0.6, "{\"beta_schedule\": \"scaled_linear\"}", "CPU", "0.1.0", "CPU", TimeSpan.FromSeconds(2));
        using var result = new SdBlazor.Engine.Pipelines.GenerationResult(
            [new(0, 1000, TestGallery.MakeImage(tone: 1)), new(1, 1001, TestGallery.MakeImage(tone: 2))], resolved);

        var ids = await g.Store.SaveResultAsync(result, parent.Key);

        Assert.Equal(2, ids.Count);
        var rows = ids.Select(id => g.Index.Get(new LiteDB.ObjectId(id))!).ToList();
        Assert.Equal([1000L, 1001L], rows.Select(r => r.Seed));
        Assert.All(rows, r => Assert.Equal(parent.Key, r.ParentId));
        var metadata = g.Store.ReadFileMetadata(rows[1])!;
        Assert.Equal("cccccccccc", metadata.Parameters!.ShortModelHash);
        Assert.Equal("{\"beta_schedule\": \"scaled_linear\"}", metadata.Parameters.SchedulerConfig);
        Assert.Equal(0.6, metadata.Parameters.Strength);
        Assert.Equal([rows[1].Id, rows[0].Id], g.Index.Children(parent.Id, AccountScope.Everything).Select(c => c.Id).Reverse());
    }
}
