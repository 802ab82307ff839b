using System.Diagnostics;
using LiteDB;
using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Gallery;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Gallery;

/// <summary>
/// Kills a child process (SdBlazor.Gallery.CrashHost) at random moments while it saves images, repeatedly, and
/// checks after each kill: the database opens, every image reported saved is there with a complete file, and
/// no half-written PNG is indexed or left where reconciliation would index it.
/// </summary>
public class GalleryCrashTests(ITestOutputHelper output)
{
    private const int Rounds = 8;

    [Fact]
    public async Task Killing_the_process_while_saving_never_loses_a_reported_image_or_indexes_a_partial_one()
    {
        var folder = Path.Combine(Path.GetTempPath(), "sdblazor-gallery-crash", Guid.NewGuid().ToString("N"));
        var reported = new HashSet<ObjectId>();
        var random = new Random();
        try
        {
            for (var round = 0; round < Rounds; round++)
            {
                var saved = await RunAndKillAsync(folder, TimeSpan.FromMilliseconds(random.Next(50, 1500)));
                reported.UnionWith(saved);
                output.WriteLine($"round {round}: {saved.Count} reported saved before the kill");

                using var g = new TestGallery(folder: folder);
                foreach (var id in reported)
                {
                    var row = g.Index.Get(id);
                    Assert.True(row is not null, $"round {round}: image {id} was reported saved but is not in the index");
                    AssertCompletePng(g, row!);
                }
                foreach (var row in g.Database.Images.FindAll())
                {
                    Assert.DoesNotContain(".tmp", row.FileName);
                    AssertCompletePng(g, row);
                }

                var report = g.Maintenance.Reconcile();
                Assert.Equal(0, report.Unreadable);
                Assert.Equal(0, report.MarkedMissing);
                Assert.True(g.Index.Count() >= reported.Count);
            }
            Assert.True(reported.Count > 0, "the child never reported a save; the test proved nothing");
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private static void AssertCompletePng(TestGallery g, GalleryImage row)
    {
        var bytes = File.ReadAllBytes(g.Files.FullPath(row.FileName));
        using var image = Image.Load<Rgb24>(bytes); // throws on a truncated file
        Assert.Equal((row.Width, row.Height), (image.Width, image.Height));
        Assert.Equal(row.Key, EmbeddedMetadata.From(PngTextChunks.Read(new MemoryStream(bytes))).Id);
    }

    private static async Task<List<ObjectId>> RunAndKillAsync(string folder, TimeSpan afterFirstSave)
    {
        var start = new ProcessStartInfo("dotnet", [CrashHostPath(), folder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var saved = new List<ObjectId>();
        var firstSave = new TaskCompletionSource();
        var errors = process.StandardError.ReadToEndAsync();
        var reader = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("saved ", StringComparison.Ordinal)) continue;
                lock (saved) saved.Add(new ObjectId(line["saved ".Length..]));
                firstSave.TrySetResult();
            }
        });

        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(firstSave.Task, exited, Task.Delay(TimeSpan.FromSeconds(120))) != firstSave.Task)
            throw new InvalidOperationException($"The crash host did not save anything: {await errors}");
        await Task.Delay(afterFirstSave);
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        await reader;
        lock (saved) return [.. saved];
    }

    private static string CrashHostPath()
    {
        // tests/SdBlazor.Web.Tests/bin/<config>/<tfm>/ → tests/SdBlazor.Gallery.CrashHost/bin/<config>/<tfm>/
        var testBin = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var tfm = Path.GetFileName(testBin);
        var config = Path.GetFileName(Path.GetDirectoryName(testBin)!);
        var testsDir = Path.GetFullPath(Path.Combine(testBin, "..", "..", "..", ".."));
        var path = Path.Combine(testsDir, "SdBlazor.Gallery.CrashHost", "bin", config, tfm, "SdBlazor.Gallery.CrashHost.dll");
        Assert.True(File.Exists(path), $"Crash host not built at {path}");
        return path;
    }
}
