using System.Net;
using SdBlazor.Web.Tests.Api;
using static SdBlazor.Web.Tests.Models.ModelImportHarness;

namespace SdBlazor.Web.Tests.Models;

/// <summary>Imports from a fake Hugging Face Hub through <c>POST /api/models/import</c>, as a client sends them.</summary>
[Collection(SdApiCollection.Name)]
public sealed class HubImportTests
{
    [Fact]
    public async Task A_checkpoint_repo_resumes_after_a_dropped_connection_verifies_and_is_listed_without_a_refresh()
    {
        await using var hub = await FakeHub.StartAsync();
        var checkpoint = Sd15Checkpoint();
        hub.Add("stability/tiny-sd15", new FakeHub.Repo { License = "creativeml-openrail-m", Files = { ["tiny.safetensors"] = checkpoint, ["README.md"] = "---\nlicense: other\n---\n"u8.ToArray() } });
        var half = checkpoint.Length / 2;
        hub.DropAfter[FakeHub.Sha256(checkpoint)] = half;
        using var factory = Factory(hub, token: FakeHub.Token);
        var api = factory.Api();

        var id = await StartAsync(api, """{"source": "stability/tiny-sd15", "name": "fromhub"}""");
        var status = await WaitAsync(api, id);

        Assert.True(State(status) == "done", status.ToString());
        Assert.Equal(1.0, status.GetProperty("progress").GetDouble());
        Assert.Equal(checkpoint.Length, status.GetProperty("bytes").GetInt64());
        var storage = hub.StorageRequests.ToList();
        Assert.Equal(2, storage.Count);
        Assert.Null(storage[0].Range);
        // Resumed, not restarted: from what arrived before the drop (the server's last buffered bytes may be lost with the connection).
        Assert.Matches("^bytes=[0-9]+-$", storage[1].Range);
        var resumedAt = long.Parse(storage[1].Range![6..^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(resumedAt, 1, half);
        // The token goes to the Hub, never to the storage host it redirects to.
        Assert.All(storage, r => Assert.False(r.HadAuthorization));
        Assert.Contains(hub.Requests, r => r.Path.Contains("/resolve/", StringComparison.Ordinal) && r.HadAuthorization);
        Assert.Equal(checkpoint, await File.ReadAllBytesAsync(Path.Combine(factory.ModelsPath, "fromhub.safetensors")));

        var listed = await ListedAsync(api, "fromhub");
        Assert.NotNull(listed);
        Assert.False(listed.Value.TryGetProperty("error", out _), listed.ToString());
        var managed = (await api.GetJsonAsync("/api/models")).Body.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "fromhub");
        Assert.Equal("creativeml-openrail-m", managed.GetProperty("license").GetString());
        Assert.Equal("SD 1.x", managed.GetProperty("architecture").GetString());
        Assert.Equal("fp16", managed.GetProperty("precision").GetString());
        Assert.StartsWith("stability/tiny-sd15 @ main", managed.GetProperty("source").GetString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(factory.DataPath, "downloads")));
    }

    [Fact]
    public async Task A_download_that_gives_up_keeps_its_bytes_and_a_retry_resumes_from_them()
    {
        await using var hub = await FakeHub.StartAsync();
        var data = RandomBytes(400_000);
        hub.Add("flaky/model", new FakeHub.Repo { Files = { ["m.safetensors"] = data } });
        hub.DropAfter[FakeHub.Sha256(data)] = 200_000;
        using var factory = Factory(hub);
        factory.Settings["Models:MaxRetries"] = "0";
        var api = factory.Api();

        var id = await StartAsync(api, """{"source": "flaky/model"}""");
        var failed = await WaitAsync(api, id);
        Assert.Equal("failed", State(failed));
        Assert.Contains("Gave up", Error(failed));
        var part = Path.Combine(factory.DataPath, "downloads", id, "model.safetensors.part");
        var kept = new FileInfo(part).Length;
        Assert.InRange(kept, 1, 200_000);

        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/models/import/{id}/retry", null)).StatusCode);
        Assert.Equal("done", State(await WaitAsync(api, id)));
        Assert.Equal($"bytes={kept}-", hub.StorageRequests.Last().Range);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(factory.ModelsPath, "model.safetensors")));
    }

    [Fact]
    public async Task A_wrong_hash_fails_saying_so_deletes_the_file_and_a_second_import_succeeds()
    {
        await using var hub = await FakeHub.StartAsync();
        var data = RandomBytes(300_000);
        hub.Add("someone/model", new FakeHub.Repo { Files = { ["model.safetensors"] = data } });
        hub.CorruptOnce[FakeHub.Sha256(data)] = true;
        using var factory = Factory(hub);
        var api = factory.Api();

        var failed = await WaitAsync(api, await StartAsync(api, """{"source": "someone/model"}"""));
        Assert.Equal("failed", State(failed));
        Assert.Contains("SHA-256 mismatch", Error(failed));
        Assert.Contains(FakeHub.Sha256(data), Error(failed));
        Assert.False(File.Exists(Path.Combine(factory.ModelsPath, "model.safetensors")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(factory.DataPath, "downloads"), "*", SearchOption.AllDirectories));

        var again = await WaitAsync(api, await StartAsync(api, """{"source": "someone/model"}"""));
        Assert.Equal("done", State(again));
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(factory.ModelsPath, "model.safetensors")));
    }

    [Fact]
    public async Task A_hash_given_in_the_request_is_checked_too()
    {
        await using var hub = await FakeHub.StartAsync();
        var data = RandomBytes(50_000);
        hub.Add("someone/model", new FakeHub.Repo { Files = { ["model.safetensors"] = data } });
        using var factory = Factory(hub);
        var api = factory.Api();
        var wrong = new string('a', 64);
        var failed = await WaitAsync(api, await StartAsync(api, $$"""{"source": "{{hub.Endpoint}}someone/model/resolve/main/model.safetensors", "name": "byurl", "sha256": "{{wrong}}"}"""));
        Assert.Equal("failed", State(failed));
        Assert.Contains($"expected {wrong}", Error(failed));
        Assert.False(File.Exists(Path.Combine(factory.ModelsPath, "byurl.safetensors")));

        var done = await WaitAsync(api, await StartAsync(api, $$"""{"source": "{{hub.Endpoint}}someone/model/resolve/main/model.safetensors", "name": "byurl", "sha256": "{{FakeHub.Sha256(data)}}"}"""));
        Assert.Equal("done", State(done));
        Assert.NotNull(await ListedAsync(api, "byurl"));
    }

    [Fact]
    public async Task A_gated_repo_needs_a_token_and_works_with_one()
    {
        await using var hub = await FakeHub.StartAsync();
        var data = RandomBytes(20_000);
        hub.Add("corp/gated", new FakeHub.Repo { Gated = true, Files = { ["g.safetensors"] = data } });
        using (var anonymous = Factory(hub))
        {
            var api = anonymous.Api();
            var failed = await WaitAsync(api, await StartAsync(api, """{"source": "corp/gated"}"""));
            Assert.Equal("failed", State(failed));
            Assert.Contains("gated", Error(failed));
            Assert.Contains("token is needed", Error(failed));
        }
        using var withToken = Factory(hub, token: FakeHub.Token);
        var client = withToken.Api();
        Assert.Equal("done", State(await WaitAsync(client, await StartAsync(client, """{"source": "corp/gated"}"""))));
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(withToken.ModelsPath, "gated.safetensors")));
    }

    [Fact]
    public async Task Missing_repos_revisions_and_files_and_ambiguous_repos_fail_with_messages_that_say_so()
    {
        await using var hub = await FakeHub.StartAsync();
        hub.Add("someone/two", new FakeHub.Repo { Files = { ["a.safetensors"] = RandomBytes(10), ["b.safetensors"] = RandomBytes(10) } });
        using var factory = Factory(hub);
        var api = factory.Api();

        async Task<string?> ErrorOf(string json)
        {
            var status = await WaitAsync(api, await StartAsync(api, json));
            Assert.Equal("failed", State(status));
            return Error(status);
        }

        var missing = await ErrorOf("""{"source": "nobody/nothing"}""");
        Assert.Contains("'nobody/nothing' was not found (RepoNotFound)", missing);
        Assert.Contains("token", missing);
        Assert.Contains("Revision 'v9' was not found", await ErrorOf("""{"source": "someone/two", "revision": "v9"}"""));
        Assert.Contains("'c.safetensors' was not found", await ErrorOf("""{"source": "someone/two", "file": "c.safetensors"}"""));
        var several = await ErrorOf("""{"source": "someone/two"}""");
        Assert.Contains("a.safetensors", several);
        Assert.Contains("b.safetensors", several);
        Assert.Contains("\"file\"", several);
        Assert.Equal("done", State(await WaitAsync(api, await StartAsync(api, """{"source": "someone/two", "file": "b.safetensors"}"""))));
        Assert.True(File.Exists(Path.Combine(factory.ModelsPath, "b.safetensors")));
    }

    [Fact]
    public async Task A_diffusers_onnx_repo_becomes_a_model_folder_that_generates()
    {
        await using var hub = await FakeHub.StartAsync();
        var repo = new FakeHub.Repo();
        foreach (var file in Directory.EnumerateFiles(DefaultModel.Folder, "*", SearchOption.AllDirectories))
            repo.Files[Path.GetRelativePath(DefaultModel.Folder, file).Replace('\\', '/')] = await File.ReadAllBytesAsync(file);
        // PyTorch weights beside the ONNX ones are not fetched.
        repo.Files["unet/diffusion_pytorch_model.safetensors"] = RandomBytes(1000);
        hub.Add("onnx/mini", repo);
        using var factory = Factory(hub);
        var api = factory.Api();

        var status = await WaitAsync(api, await StartAsync(api, """{"source": "onnx/mini", "name": "mini from hub"}"""));
        Assert.True(State(status) == "done", status.ToString());
        var folder = Path.Combine(factory.ModelsPath, "mini from hub");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(DefaultModel.Folder, "unet", "model.onnx")), await File.ReadAllBytesAsync(Path.Combine(folder, "unet", "model.onnx")));
        Assert.False(File.Exists(Path.Combine(folder, "unet", "diffusion_pytorch_model.safetensors")));
        Assert.NotNull(await ListedAsync(api, "mini from hub"));

        var image = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "a cat", "steps": 1, "width": 64, "height": 64, "override_settings": {"sd_model_checkpoint": "mini from hub"}}""");
        Assert.True(image.Status == HttpStatusCode.OK, image.Text);
        Assert.Equal("mini from hub", image.Info.GetProperty("sd_model_name").GetString());
    }

    [Fact]
    public async Task Cancelling_a_running_import_stops_it_and_removes_its_partial_file()
    {
        await using var hub = await FakeHub.StartAsync();
        var data = RandomBytes(2_000_000);
        hub.Add("slow/model", new FakeHub.Repo { Files = { ["m.safetensors"] = data } });
        hub.BytesPerSecond = 200_000;
        using var factory = Factory(hub);
        var api = factory.Api();
        var id = await StartAsync(api, """{"source": "slow/model"}""");
        await WaitAsync(api, id, s => s.GetProperty("bytes").GetInt64() > 0);

        Assert.Equal(HttpStatusCode.OK, (await api.DeleteAsync($"/api/models/import/{id}")).StatusCode);
        var status = await WaitAsync(api, id);
        Assert.Equal("cancelled", State(status));
        Assert.False(Directory.Exists(Path.Combine(factory.DataPath, "downloads", id)));
        Assert.False(File.Exists(Path.Combine(factory.ModelsPath, "model.safetensors")));
        Assert.Equal(HttpStatusCode.NotFound, (await api.DeleteAsync("/api/models/import/nosuchid")).StatusCode);
    }

    internal static byte[] RandomBytes(int length)
    {
        var data = new byte[length];
        Random.Shared.NextBytes(data);
        return data;
    }
}
