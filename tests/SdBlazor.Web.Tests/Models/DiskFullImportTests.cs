using System.Diagnostics;
using System.Net;
using SdBlazor.Web.Tests.Api;
using static SdBlazor.Web.Tests.Models.ModelImportHarness;

namespace SdBlazor.Web.Tests.Models;

/// <summary>
/// Issue 29: the disk of the download folder really fills up mid-download (a small tmpfs this test mounts, filled by
/// another writer while the import runs). The import fails saying so and keeps its bytes; the app and the next import
/// carry on; a restart removes abandoned staging folders but keeps this one; Retry after freeing space resumes with a
/// Range request from the bytes kept and verifies the whole file.
/// </summary>
[Collection(SdApiCollection.Name)]
public sealed class DiskFullImportTests
{
    [Fact]
    public async Task A_disk_that_fills_mid_download_fails_the_import_clearly_and_a_retry_resumes_after_space_is_freed()
    {
        await using var hub = await FakeHub.StartAsync();
        var data = HubImportTests.RandomBytes(2_000_000);
        var small = HubImportTests.RandomBytes(100_000);
        hub.Add("big/model", new FakeHub.Repo { Files = { ["big.safetensors"] = data } });
        hub.Add("small/model", new FakeHub.Repo { Files = { ["small.safetensors"] = small } });
        hub.BytesPerSecond = 500_000;
        var dataPath = Directory.CreateTempSubdirectory("import-diskfull-").FullName;
        using var disk = Tmpfs.Mount(3 << 20);
        var abandoned = Path.Combine(disk.Path, Guid.NewGuid().ToString("N"));
        // The download folder is an import root: what the user keeps there is not the app's to clean.
        var mine = Directory.CreateDirectory(Path.Combine(disk.Path, "mine")).FullName;
        File.WriteAllText(Path.Combine(disk.Path, "notes.txt"), "mine");
        try
        {
            string id;
            string part;
            using (var first = Factory(hub, dataPath: dataPath))
            {
                first.Settings["Models:DownloadPath"] = disk.Path;
                var api = first.Api();
                id = await StartAsync(api, """{"source": "big/model", "name": "big"}""");
                await WaitAsync(api, id, s => s.GetProperty("bytes").GetInt64() > 200_000);

                // Another writer takes every free byte of the disk while the download runs.
                var filler = Path.Combine(disk.Path, "filler");
                Fill(filler);
                var failed = await WaitAsync(api, id);
                Assert.True(State(failed) == "failed", failed.ToString());
                var error = Error(failed)!;
                Assert.Contains("disk of the download folder is full", error);
                Assert.Contains("kept", error);
                Assert.DoesNotContain(disk.Path, error);

                // Kept for resuming, and the app carries on: listing works, the next import runs once there is room.
                part = Path.Combine(disk.Path, id, "big.safetensors.part");
                Assert.InRange(new FileInfo(part).Length, 200_000, data.Length - 1);
                Assert.Equal(HttpStatusCode.OK, (await api.GetJsonAsync("/sdapi/v1/sd-models")).Status);
                File.Delete(filler);
                var next = await WaitAsync(api, await StartAsync(api, """{"source": "small/model", "name": "small"}"""));
                Assert.True(State(next) == "done", next.ToString());
                Directory.CreateDirectory(abandoned);
                File.WriteAllText(Path.Combine(abandoned, "x.part"), "left behind by a crash");
                Fill(filler);
            }

            // A restart removes a staging folder no import resumes from, keeps the failed import's bytes and the user's own files.
            var keptLength = new FileInfo(part).Length;
            using var second = Factory(hub, dataPath: dataPath);
            second.Settings["Models:DownloadPath"] = disk.Path;
            var client = second.Api();
            await WaitUntil(() => !Directory.Exists(abandoned));
            Assert.Equal(keptLength, new FileInfo(part).Length);
            Assert.True(File.Exists(Path.Combine(disk.Path, "filler")));
            Assert.True(Directory.Exists(mine) && File.Exists(Path.Combine(disk.Path, "notes.txt")));

            File.Delete(Path.Combine(disk.Path, "filler"));
            hub.BytesPerSecond = 0;
            var before = hub.StorageRequests.Count();
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/models/import/{id}/retry", null)).StatusCode);
            var done = await WaitAsync(client, id);
            Assert.True(State(done) == "done", done.ToString());
            Assert.Equal($"bytes={keptLength}-", Assert.Single(hub.StorageRequests.Skip(before)).Range);
            Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(second.ModelsPath, "big.safetensors")));
            Assert.False(Directory.Exists(Path.Combine(disk.Path, id)));
        }
        finally
        {
            try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Discarding_a_failed_import_deletes_the_bytes_it_kept()
    {
        await using var hub = await FakeHub.StartAsync();
        var data = HubImportTests.RandomBytes(1_000_000);
        hub.Add("big/model", new FakeHub.Repo { Files = { ["big.safetensors"] = data } });
        hub.BytesPerSecond = 400_000;
        using var disk = Tmpfs.Mount(2 << 20);
        using var factory = Factory(hub);
        factory.Settings["Models:DownloadPath"] = disk.Path;
        var api = factory.Api();
        var id = await StartAsync(api, """{"source": "big/model", "name": "big"}""");
        await WaitAsync(api, id, s => s.GetProperty("bytes").GetInt64() > 100_000);
        Fill(Path.Combine(disk.Path, "filler"));
        Assert.Equal("failed", State(await WaitAsync(api, id)));
        Assert.True(Directory.Exists(Path.Combine(disk.Path, id)));

        Assert.Equal(HttpStatusCode.OK, (await api.DeleteAsync($"/api/models/import/{id}")).StatusCode);
        Assert.Equal("cancelled", State((await api.GetJsonAsync($"/api/models/import/{id}")).Body));
        Assert.False(Directory.Exists(Path.Combine(disk.Path, id)));
    }

    /// <summary>Writes until the file system refuses (ENOSPC), as another program filling the disk would.</summary>
    private static void Fill(string path)
    {
        var chunk = new byte[64 * 1024];
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1);
        try
        {
            while (true) file.Write(chunk);
        }
        catch (IOException)
        {
        }
        try { file.Write(chunk, 0, 1); } catch (IOException) { } // the last page, if any
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new Xunit.Sdk.XunitException("Condition not met in 30 s.");
            await Task.Delay(50);
        }
    }
}

/// <summary>
/// A small tmpfs mounted for one test, so that "disk full" is the kernel's ENOSPC on a real write. Needs root (the test
/// machines and CI run as root); unmounted lazily on dispose so that a file still open cannot keep it.
/// </summary>
internal sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path) => Path = path;

    public string Path { get; }

    public static Tmpfs Mount(long bytes)
    {
        var path = Directory.CreateTempSubdirectory("sdblazor-tmpfs-").FullName;
        Run("mount", "-t", "tmpfs", "-o", $"size={bytes},mode=0700", "tmpfs", path);
        return new Tmpfs(path);
    }

    public void Dispose()
    {
        try { Run("umount", "-l", Path); } catch (InvalidOperationException) { }
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }

    private static void Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Trim()} — this test mounts a tmpfs and needs root.");
    }
}
