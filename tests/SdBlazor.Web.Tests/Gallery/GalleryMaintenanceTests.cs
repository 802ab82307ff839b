using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Gallery;
using Xunit;

namespace SdBlazor.Web.Tests.Gallery;

public class GalleryMaintenanceTests
{
    [Fact]
    public async Task Rebuild_recreates_the_index_from_the_files_keeping_ids_favourites_and_albums()
    {
        using var g = new TestGallery();
        var a = await g.SaveAsync("an owl, at night");
        var b = await g.SaveAsync("a fox", model: "other");
        var imported = await g.Store.ImportAsync(TestGallery.ForeignPng(("parameters", "a koi pond\nSteps: 9, Sampler: DDIM, Seed: 5, Size: 40x30")));
        g.Store.SetFavourite(a.Id, true);
        g.Store.AddToAlbum([b.Id], "Animals");
        g.Store.Trash([b.Id]);

        var report = g.Maintenance.Rebuild();

        Assert.Equal((3, 3, 0), (report.FilesOnDisk, report.Indexed, report.Unreadable));
        Assert.Equal([imported.Id, a.Id], g.Index.Query(new GalleryQuery()).Items.Select(i => i.Id));
        Assert.True(g.Index.Get(a.Id)!.Favourite);
        Assert.Equal(["Animals"], g.Index.Get(b.Id)!.Albums);
        Assert.NotNull(g.Index.Get(b.Id)!.TrashedUtc);
        Assert.Equal(MetadataSource.Automatic1111, g.Index.Get(imported.Id)!.Source);
        Assert.Equal("a koi pond", g.Index.Get(imported.Id)!.Prompt);
        Assert.Equal([imported.Id], g.Index.Query(new GalleryQuery { Search = "koi" }).Items.Select(i => i.Id));
        Assert.Equal([a.Id], g.Index.Query(new GalleryQuery { Search = "owl" }).Items.Select(i => i.Id));
        Assert.NotNull(g.Index.Thumbnail(a.Id));
    }

    [Fact]
    public async Task A_lost_database_is_recovered_by_reconciliation_with_the_same_ids()
    {
        using var g = new TestGallery();
        var saved = new List<GalleryImage>();
        for (var i = 0; i < 5; i++) saved.Add(await g.SaveAsync($"picture number {i}", seed: i));

        g.Reopen(deleteDatabase: true);
        Assert.Equal(0, g.Index.Count());
        var report = g.Maintenance.Reconcile();

        Assert.Equal(5, report.Indexed);
        var rows = g.Index.Query(new GalleryQuery()).Items;
        Assert.Equal(saved.Select(s => s.Id).Reverse(), rows.Select(r => r.Id));
        Assert.Equal(saved.Select(s => s.Prompt).Reverse(), rows.Select(r => r.Prompt));
        Assert.Equal(saved.Select(s => s.CreatedUtc).Reverse(), rows.Select(r => r.CreatedUtc));

        // Nothing new the second time: reconciliation only indexes what it does not know.
        Assert.Equal(0, g.Maintenance.Reconcile().Indexed);
    }

    [Fact]
    public async Task Reconcile_flags_rows_whose_file_is_gone_indexes_new_files_and_skips_broken_ones()
    {
        using var g = new TestGallery();
        var kept = await g.SaveAsync("kept");
        var lost = await g.SaveAsync("lost");
        File.Delete(g.Files.FullPath(lost.FileName));

        // A file someone copied in, a truncated PNG, and a stale temp file from a write that died.
        var dropped = Path.Combine(g.Folder, "images", "dropped-in.png");
        await File.WriteAllBytesAsync(dropped, TestGallery.ForeignPng(("parameters", "dropped in\nSteps: 1, Sampler: Euler, Seed: 1")));
        var truncated = TestGallery.ForeignPng(("parameters", "broken"));
        await File.WriteAllBytesAsync(Path.Combine(g.Folder, "images", "truncated.png"), truncated[..(truncated.Length / 2)]);
        var temp = Path.Combine(g.Folder, "images", "x.png.1234.tmp");
        await File.WriteAllBytesAsync(temp, [1, 2, 3]);
        File.SetLastWriteTimeUtc(temp, DateTime.UtcNow.AddHours(-1));

        var report = g.Maintenance.Reconcile();

        Assert.Equal((1, 1, 1, 1), (report.Indexed, report.MarkedMissing, report.Unreadable, report.TempFilesRemoved));
        Assert.False(File.Exists(temp));
        Assert.True(g.Index.Get(lost.Id)!.Missing);
        var listed = g.Index.Query(new GalleryQuery()).Items;
        Assert.Equal(["dropped in", "kept"], listed.Select(r => r.Prompt));
        Assert.Equal("images/dropped-in.png", listed[0].FileName);

        // The file comes back (e.g. a network drive reconnects): the row is live again.
        await File.WriteAllBytesAsync(g.Files.FullPath(lost.FileName), TestGallery.ForeignPng());
        Assert.Equal(1, g.Maintenance.Reconcile().Recovered);
        Assert.False(g.Index.Get(lost.Id)!.Missing);
    }

    [Fact]
    public async Task An_interrupted_trash_move_is_repaired_by_reconciliation()
    {
        using var g = new TestGallery();
        var row = await g.SaveAsync("moved");
        // The file reached the trash folder but the process died before the index was updated.
        g.Files.Move(row.FileName, GalleryFiles.TrashNameFor(row.Id));

        g.Maintenance.Reconcile();

        var fixedRow = g.Index.Get(row.Id)!;
        Assert.Equal(GalleryFiles.TrashNameFor(row.Id), fixedRow.FileName);
        Assert.NotNull(fixedRow.TrashedUtc);
        Assert.False(fixedRow.Missing);
        Assert.Equal(1, g.Index.Count());
    }

    [Fact]
    public async Task An_unreadable_database_file_is_moved_aside_and_rebuilt_from_the_files()
    {
        using var g = new TestGallery();
        var row = await g.SaveAsync("survives");
        g.Database.Dispose();
        await File.WriteAllBytesAsync(g.DatabasePath, Enumerable.Repeat((byte)0xAB, 40000).ToArray());
        File.Delete(Path.Combine(g.Folder, "gallery-log.db"));

        g.Reopen();
        Assert.True(g.Database.WasReset);
        g.Maintenance.Reconcile();

        Assert.Equal("survives", g.Index.Get(row.Id)!.Prompt);
        Assert.Single(Directory.GetFiles(g.Folder, "gallery.db.corrupt-*"));
    }
}
