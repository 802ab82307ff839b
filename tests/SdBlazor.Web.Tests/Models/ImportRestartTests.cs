using SdBlazor.Web.Tests.Api;
using static SdBlazor.Web.Tests.Models.ModelImportHarness;

namespace SdBlazor.Web.Tests.Models;

/// <summary>An import interrupted by stopping the app continues by itself on the next start: same id, Range from the bytes on disk.</summary>
[Collection(SdApiCollection.Name)]
public sealed class ImportRestartTests
{
    [Fact]
    public async Task A_download_stopped_by_a_restart_resumes_from_the_bytes_on_disk_under_the_same_id()
    {
        await using var hub = await FakeHub.StartAsync();
        var data = HubImportTests.RandomBytes(3_000_000);
        hub.Add("slow/model", new FakeHub.Repo { Files = { ["big.safetensors"] = data } });
        hub.BytesPerSecond = 400_000;
        var dataPath = Directory.CreateTempSubdirectory("import-restart-").FullName;
        try
        {
            string id;
            using (var first = Factory(hub, dataPath: dataPath))
            {
                var api = first.Api();
                id = await StartAsync(api, """{"source": "slow/model", "name": "survivor"}""");
                await WaitAsync(api, id, s => s.GetProperty("bytes").GetInt64() > 500_000);
            }
            var part = Path.Combine(dataPath, "downloads", id, "survivor.safetensors.part");
            var kept = new FileInfo(part).Length;
            Assert.InRange(kept, 500_000, data.Length - 1);
            var before = hub.StorageRequests.Count();
            hub.BytesPerSecond = 0;

            await AssertResumesAfterStartAsync(hub, dataPath, id, data, kept, before);
        }
        finally
        {
            try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { }
        }
    }
}
