using System.Net;
using System.Text.Json;
using SdBlazor.Web.Tests.Api;
using static SdBlazor.Web.Tests.Models.ModelImportHarness;

namespace SdBlazor.Web.Tests.Models;

/// <summary>Bad import requests answer 4xx with a clear message and start nothing; local imports only from the import roots.</summary>
[Collection(SdApiCollection.Name)]
public sealed class ImportRequestTests : IAsyncLifetime
{
    private FakeHub _hub = null!;
    private SdApiFactory _factory = null!;
    private HttpClient _api = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _factory = Factory(_hub);
        _api = _factory.Api();
    }

    public async Task DisposeAsync()
    {
        _factory.Dispose();
        await _hub.DisposeAsync();
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("a\\\\b")]
    [InlineData("..")]
    [InlineData("CON")]
    [InlineData("nul")]
    [InlineData("COM1.safetensors")]
    [InlineData(".hidden")]
    [InlineData("trailing.")]
    [InlineData("colon:name")]
    public async Task Names_with_path_characters_or_device_names_are_refused(string name)
    {
        var reply = await _api.PostJsonAsync("/api/models/import", $$"""{"source": "someone/model", "name": "{{name}}"}""");
        Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{(int)reply.Status} {reply.Text}");
        Assert.True(reply.Body.GetProperty("errors").TryGetProperty("name", out _), reply.Text);
        await AssertNothingStartedAsync();
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("/tmp")]
    public async Task A_path_outside_the_import_roots_is_refused_before_it_is_read(string path)
    {
        var reply = await _api.PostJsonAsync("/api/models/import", JsonSerializer.Serialize(new { source = path, name = "x" }));
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains("outside the import folders", reply.Body.GetProperty("errors").GetProperty("source")[0].GetString());
        await AssertNothingStartedAsync();
    }

    [Fact]
    public async Task A_link_inside_a_root_that_points_outside_is_refused()
    {
        var outside = Directory.CreateTempSubdirectory("outside-").FullName;
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(outside, "secret.safetensors"), [1, 2, 3]);
            var downloads = Directory.CreateDirectory(Path.Combine(_factory.DataPath, "downloads")).FullName;
            var link = Path.Combine(downloads, "link");
            Directory.CreateSymbolicLink(link, outside);
            var reply = await _api.PostJsonAsync("/api/models/import", JsonSerializer.Serialize(new { source = Path.Combine(link, "secret.safetensors"), name = "x" }));
            Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
            var dotdot = await _api.PostJsonAsync("/api/models/import", JsonSerializer.Serialize(new { source = downloads + "/../../../../etc/passwd", name = "x" }));
            Assert.Equal(HttpStatusCode.BadRequest, dotdot.Status);
            await AssertNothingStartedAsync();
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public async Task A_file_in_the_download_folder_is_imported_by_path_with_its_hash_checked()
    {
        var downloads = Directory.CreateDirectory(Path.Combine(_factory.DataPath, "downloads")).FullName;
        var data = HubImportTests.RandomBytes(100_000);
        var source = Path.Combine(downloads, "mine.safetensors");
        await File.WriteAllBytesAsync(source, data);

        var wrong = await WaitAsync(_api, await StartAsync(_api, JsonSerializer.Serialize(new { source, name = "local", sha256 = new string('0', 64) })));
        Assert.Equal("failed", State(wrong));
        Assert.Contains("SHA-256 mismatch", Error(wrong));

        var done = await WaitAsync(_api, await StartAsync(_api, JsonSerializer.Serialize(new { source, name = "local", sha256 = FakeHub.Sha256(data) })));
        Assert.Equal("done", State(done));
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(_factory.ModelsPath, "local.safetensors")));
        Assert.True(File.Exists(source), "the source is copied, not moved");
        Assert.NotNull(await ListedAsync(_api, "local"));

        var again = await _api.PostJsonAsync("/api/models/import", JsonSerializer.Serialize(new { source, name = "local" }));
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
    }

    [Theory]
    [InlineData("""{"source": ""}""", "source")]
    [InlineData("""{"source": "not a source"}""", "source")]
    [InlineData("""{"source": "https://example.com/model.ckpt"}""", "source")]
    [InlineData("""{"source": "ftp://example.com/model.safetensors"}""", "source")]
    [InlineData("""{"source": "a/b", "revision": "../../etc"}""", "revision")]
    [InlineData("""{"source": "a/b", "file": "../x.safetensors"}""", "file")]
    [InlineData("""{"source": "a/b", "file": "model.ckpt"}""", "file")]
    [InlineData("""{"source": "a/b", "sha256": "xyz"}""", "sha256")]
    [InlineData("""{"source": "../../b"}""", "source")]
    public async Task Malformed_sources_are_refused_by_field(string json, string field)
    {
        var reply = await _api.PostJsonAsync("/api/models/import", json);
        Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{(int)reply.Status} {reply.Text}");
        Assert.True(reply.Body.GetProperty("errors").TryGetProperty(field, out _), reply.Text);
        await AssertNothingStartedAsync();
    }

    [Fact]
    public async Task Bodies_that_are_not_json_objects_are_refused()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await _api.PostJsonAsync("/api/models/import", "not json")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _api.PostJsonAsync("/api/models/import", "null")).Status);
        using var form = new StringContent("source=a/b", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await _api.PostAsync("/api/models/import", form)).StatusCode);
        var huge = await _api.PostJsonAsync("/api/models/import", JsonSerializer.Serialize(new { source = "a/b", name = new string('a', 40_000) }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.Status);
        await AssertNothingStartedAsync();
    }

    private async Task AssertNothingStartedAsync()
    {
        Assert.Empty((await _api.GetJsonAsync("/api/models/import")).Body.EnumerateArray());
        Assert.Empty(_hub.Requests);
    }
}
