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
        Assert.Equal(["Blue things", "Foxes"], g.Index.AlbumNames());

        g.Store.SetFavourite(a.Id, false);
        g.Store.RemoveFromAlbum(b.Id, "foxes");
        Assert.Empty(g.Index.Query(new GalleryQuery { FavouritesOnly = true }).Items);
        Assert.Equal([a.Id], g.Index.Query(new GalleryQuery { Album = "Foxes" }).Items.Select(i => i.Id));

        Assert.Equal([("model-a", 1), ("model-b", 1)], g.Index.FacetValues("model").OrderBy(f => f.Value));
        g.Store.Trash([b.Id]);
        Assert.Equal([("model-a", 1)], g.Index.FacetValues("model"));
    }

    [Fact]
    public async Task Lineage_lists_children_of_a_parent()
    {
        using var g = new TestGallery();
        var parent = await g.SaveAsync("parent");
        using var image = TestGallery.MakeImage();
        var child = await g.Store.SaveAsync(image, TestGallery.Parameters("child") with { ParentId = parent.Key, Strength = 0.5 });

        Assert.Equal([child.Id], g.Index.Children(parent.Id).Select(c => c.Id));
        Assert.Equal(parent.Key, g.Index.Get(child.Id)!.ParentId);
    }
}
