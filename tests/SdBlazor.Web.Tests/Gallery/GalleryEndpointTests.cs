using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Sharing.Auth;
using SdBlazor.Web.Tests.Support;
using Xunit;

namespace SdBlazor.Web.Tests.Gallery;

/// <summary>The gallery HTTP API on the real app (in-memory server, real data folder).</summary>
public sealed class GalleryEndpointTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sdblazor-gallery-api", Guid.NewGuid().ToString("N"));
    private readonly WebApplicationFactory<Program> _factory;

    public GalleryEndpointTests()
    {
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Gallery:DataPath", _folder);
            // TestServer requests have no remote address; these tests are the local owner (see TestRemoteAddress).
            b.ConfigureServices(s => s.AddSingleton<IStartupFilter>(new TestRemoteAddress(IPAddress.Loopback)));
        });
    }

    public void Dispose()
    {
        _factory.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private static MultipartFormDataContent Upload(byte[] bytes, string name)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent { { content, "file", name } };
    }

    [Fact]
    public async Task Import_then_list_search_download_thumbnail_and_zip()
    {
        var client = _factory.CreateClient();
        var png = TestGallery.ForeignPng(("parameters", "a lighthouse, in fog\nSteps: 20, Sampler: Euler, Seed: 7, Size: 40x30"));

        var created = await client.PostAsync("/api/gallery/import", Upload(png, "lighthouse.png"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var list = await client.GetFromJsonAsync<JsonElement>("/api/gallery?search=lighthouse");
        Assert.Equal(id, list.GetProperty("items")[0].GetProperty("id").GetString());
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/gallery?search=harbor")).GetProperty("items").GetArrayLength());

        var original = await client.GetAsync($"/api/images/{id}?download=true");
        Assert.Equal("image/png", original.Content.Headers.ContentType!.MediaType);
        Assert.Equal(png, await original.Content.ReadAsByteArrayAsync()); // metadata intact
        Assert.Equal("attachment", original.Content.Headers.ContentDisposition!.DispositionType);

        var thumb = await client.GetAsync($"/api/images/{id}/thumb");
        Assert.Equal("image/webp", thumb.Content.Headers.ContentType!.MediaType);

        var zip = await client.GetAsync($"/api/gallery/zip?ids={id}");
        using var archive = new ZipArchive(await zip.Content.ReadAsStreamAsync());
        var entry = Assert.Single(archive.Entries);
        await using var entryStream = entry.Open();
        using var ms = new MemoryStream();
        await entryStream.CopyToAsync(ms);
        Assert.Equal(png, ms.ToArray());

        // The POST is the gallery's form: without its antiforgery token it is refused.
        var ids = new KeyValuePair<string, string>("ids", $"{id},0123456789abcdef01234567");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/api/gallery/zip", new FormUrlEncodedContent([ids]))).StatusCode);
        var (cookie, field, token) = AntiforgeryTokens.For(_factory.Services, SharingClaims.LocalOwner(null));
        using var form = new HttpRequestMessage(HttpMethod.Post, "/api/gallery/zip") { Content = new FormUrlEncodedContent([ids, new(field, token)]) };
        form.Headers.Add("Cookie", cookie);
        var posted = await client.SendAsync(form);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        using var postedArchive = new ZipArchive(await posted.Content.ReadAsStreamAsync());
        Assert.Equal([$"{id}.png"], postedArchive.Entries.Select(e => e.Name));
    }

    [Theory]
    [InlineData("text.png", "Only PNG, JPEG and WebP")]
    [InlineData("empty.png", "empty")]
    public async Task Bad_uploads_are_refused_with_a_clear_message(string name, string message)
    {
        var client = _factory.CreateClient();
        var bytes = name == "empty.png" ? Array.Empty<byte>() : "not an image at all"u8.ToArray();

        var response = await client.PostAsync("/api/gallery/import", Upload(bytes, name));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("/api/images/0123456789abcdef01234567")]
    [InlineData("/api/images/..%2F..%2Fgallery.db")]
    [InlineData("/api/images/not-an-id/thumb")]
    public async Task Unknown_or_malformed_ids_are_not_found(string url)
    {
        var response = await _factory.CreateClient().GetAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_gallery_page_renders_with_its_search_field()
    {
        var html = await _factory.CreateClient().GetStringAsync("/gallery");
        Assert.Contains("Search", html);
        Assert.Contains("Gallery", html);
    }
}
