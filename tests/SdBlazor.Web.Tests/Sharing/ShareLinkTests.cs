using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Sharing.Shares;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>Share links over HTTP from another device: exactly the shared images, PIN, hidden prompts, revoke, expiry.</summary>
public sealed partial class ShareLinkTests
{
    [Fact]
    public async Task A_link_shows_exactly_the_shared_images_and_nothing_else()
    {
        await using var app = new SharingFactory();
        var images = await app.AddImagesAsync("red fox", "blue whale", "green frog", "private diary");
        var owner = await app.ClientAsAsync(SharingRole.Owner);
        var created = await owner.PostAsJsonAsync("/api/shares", new { kind = "Selection", imageIds = new[] { images[0].Key, images[2].Key } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var token = body.GetProperty("token").GetString()!;
        Assert.True(SecretTokens.LooksValid(token));
        Assert.EndsWith($"/s/{token}", body.GetProperty("url").GetString());

        var visitor = app.NewClient();
        var page = await visitor.GetStringAsync($"/s/{token}");
        Assert.Equal(new[] { images[0].Key, images[2].Key }.Order(), ImageIdsOn(page).Order());
        Assert.Contains("red fox", page);
        Assert.DoesNotContain("private diary", page);

        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync($"/s/{token}/images/{images[0].Key}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync($"/s/{token}/images/{images[2].Key}/thumb")).StatusCode);
        var download = await visitor.GetAsync($"/s/{token}/images/{images[0].Key}?download=true");
        Assert.Equal($"{images[0].Key}.png", download.Content.Headers.ContentDisposition?.FileNameStar ?? download.Content.Headers.ContentDisposition?.FileName);
        // Guessing: other gallery ids through the link, the gallery API, the image API.
        foreach (var other in new[] { images[1].Key, images[3].Key })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{token}/images/{other}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{token}/images/{other}/thumb")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await visitor.GetAsync($"/api/images/{other}")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await visitor.GetAsync("/api/gallery")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{token}/live/state")).StatusCode);
        // A token that differs by one character is a different (unknown) link.
        var near = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{near}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{near}/images/{images[0].Key}")).StatusCode);

        // The token itself is not stored: only its SHA-256.
        var share = app.Services.GetRequiredService<ShareStore>().List(null).Single();
        Assert.Equal(SecretTokens.Hash(token), share.TokenHash);
        Assert.DoesNotContain(token, await ReadSharingDbAsync(app));
        Assert.Equal(1, share.Views);
    }

    [Fact]
    public async Task Revoked_and_expired_links_stop_working()
    {
        await using var app = new SharingFactory();
        var images = await app.AddImagesAsync("sunset");
        var shares = app.Services.GetRequiredService<ShareStore>();
        app.EnsureOwner();
        var visitor = app.NewClient();
        // The app's first request takes seconds on a busy machine: longer than the short link below lives.
        await visitor.GetAsync("/s/AAAAAAAAAAAAAAAAAAAAAA");
        var (revoked, revokedToken) = shares.Create(new() { Kind = ShareKind.Gallery }, SharingFactory.OwnerName);
        var (_, expiringToken) = shares.Create(new() { Kind = ShareKind.Gallery, ExpiresIn = TimeSpan.FromSeconds(1.5) }, SharingFactory.OwnerName);
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync($"/s/{revokedToken}/images/{images[0].Key}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync($"/s/{expiringToken}/images/{images[0].Key}")).StatusCode);

        var owner = await app.ClientAsAsync(SharingRole.Owner);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.PostAsync($"/api/shares/{revoked.Id}/revoke", null)).StatusCode);
        using (var gone = await visitor.GetAsync($"/s/{revokedToken}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            // A page that says why, not an empty 404 (browsers show their own error for those).
            Assert.Contains("This link is not available", await gone.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{revokedToken}/images/{images[0].Key}")).StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{expiringToken}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{expiringToken}/images/{images[0].Key}/thumb")).StatusCode);
    }

    [Fact]
    public async Task A_pin_guards_the_page_and_the_images_until_entered()
    {
        await using var app = new SharingFactory();
        var images = await app.AddImagesAsync("secret garden");
        app.EnsureOwner();
        var (_, token) = app.Services.GetRequiredService<ShareStore>().Create(new() { Kind = ShareKind.Selection, ImageIds = [images[0].Key], Pin = "2468" }, SharingFactory.OwnerName);
        var visitor = app.NewClient();

        var page = await visitor.GetStringAsync($"/s/{token}");
        Assert.Contains("Enter the PIN", page);
        Assert.Empty(ImageIdsOn(page));
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{token}/images/{images[0].Key}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SubmitPinAsync(visitor, token, "1111")).StatusCode);
        var right = await SubmitPinAsync(visitor, token, "2468");
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);

        Assert.Equal([images[0].Key], ImageIdsOn(await visitor.GetStringAsync($"/s/{token}")));
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync($"/s/{token}/images/{images[0].Key}")).StatusCode);
        // The PIN cookie is bound to this share: another visitor without it is still asked.
        Assert.Contains("Enter the PIN", await app.NewClient().GetStringAsync($"/s/{token}"));
    }

    [Fact]
    public async Task Hidden_prompts_are_gone_from_the_page_and_from_the_downloaded_file()
    {
        await using var app = new SharingFactory();
        var images = await app.AddImagesAsync("my very private prompt words");
        app.EnsureOwner();
        var (_, token) = app.Services.GetRequiredService<ShareStore>().Create(new() { Kind = ShareKind.Selection, ImageIds = [images[0].Key], HidePrompts = true }, SharingFactory.OwnerName);
        var visitor = app.NewClient();

        var page = await visitor.GetStringAsync($"/s/{token}");
        Assert.Single(ImageIdsOn(page));
        Assert.DoesNotContain("private prompt", page);
        var png = await visitor.GetByteArrayAsync($"/s/{token}/images/{images[0].Key}?download=true");
        var texts = PngTextChunks.Read(new MemoryStream(png));
        Assert.Empty(texts);
        Assert.DoesNotContain("private prompt", System.Text.Encoding.Latin1.GetString(png));

        // Without hiding, the original file (with its parameters) is what one downloads.
        var (_, open) = app.Services.GetRequiredService<ShareStore>().Create(new() { Kind = ShareKind.Selection, ImageIds = [images[0].Key] }, SharingFactory.OwnerName);
        var original = await visitor.GetByteArrayAsync($"/s/{open}/images/{images[0].Key}?download=true");
        Assert.Contains(PngTextChunks.Read(new MemoryStream(original)), t => t.Key == "parameters" && t.Value.Contains("private prompt"));
    }

    [Fact]
    public async Task Album_and_search_links_grant_the_album_now_and_the_frozen_search_result()
    {
        await using var app = new SharingFactory();
        var images = await app.AddImagesAsync("cat one", "cat two", "dog three");
        var gallery = app.Services.GetRequiredService<SdBlazor.Web.Gallery.GalleryStore>();
        gallery.AddToAlbum([images[0].Id], "Pets");
        var owner = await app.ClientAsAsync(SharingRole.Owner);
        var album = await (await owner.PostAsJsonAsync("/api/shares", new { kind = "Album", album = "Pets" })).Content.ReadFromJsonAsync<JsonElement>();
        var search = await (await owner.PostAsJsonAsync("/api/shares", new { kind = "Selection", search = "cat" })).Content.ReadFromJsonAsync<JsonElement>();
        var visitor = app.NewClient();

        Assert.Equal([images[0].Key], ImageIdsOn(await visitor.GetStringAsync($"/s/{album.GetProperty("token").GetString()}")));
        gallery.AddToAlbum([images[2].Id], "Pets");
        Assert.Equal(new[] { images[0].Key, images[2].Key }.Order(), ImageIdsOn(await visitor.GetStringAsync($"/s/{album.GetProperty("token").GetString()}")).Order());

        var searchToken = search.GetProperty("token").GetString();
        Assert.Equal(new[] { images[0].Key, images[1].Key }.Order(), ImageIdsOn(await visitor.GetStringAsync($"/s/{searchToken}")).Order());
        await app.AddImagesAsync("cat four");
        Assert.Equal(2, ImageIdsOn(await visitor.GetStringAsync($"/s/{searchToken}")).Count);
        // Trashed images leave every link.
        gallery.Trash([images[0].Id]);
        Assert.Equal([images[1].Key], ImageIdsOn(await visitor.GetStringAsync($"/s/{searchToken}")));
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{searchToken}/images/{images[0].Key}")).StatusCode);
    }

    [Fact]
    public async Task Bad_share_requests_get_clear_errors_and_members_cannot_share_live_or_touch_others_links()
    {
        await using var app = new SharingFactory();
        var owner = await app.ClientAsAsync(SharingRole.Owner);
        var member = await app.ClientAsAsync(SharingRole.Member);
        var bad = await owner.PostAsJsonAsync("/api/shares", new { kind = "Selection", imageIds = new[] { "../../etc/passwd" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("is not an image in the gallery", await bad.Content.ReadAsStringAsync());
        var noAlbum = await owner.PostAsJsonAsync("/api/shares", new { kind = "Album", album = "Nope" });
        Assert.Contains("There is no album 'Nope'", await noAlbum.Content.ReadAsStringAsync());
        var badExpiry = await owner.PostAsJsonAsync("/api/shares", new { kind = "Gallery", expiresInHours = -1 });
        Assert.Equal(HttpStatusCode.BadRequest, badExpiry.StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsJsonAsync("/api/shares", new { kind = "Live" })).StatusCode);
        var ownerShare = await (await owner.PostAsJsonAsync("/api/shares", new { kind = "Gallery" })).Content.ReadFromJsonAsync<JsonElement>();
        var id = ownerShare.GetProperty("share").GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NotFound, (await member.PostAsync($"/api/shares/{id}/revoke", null)).StatusCode);
        Assert.Empty(await member.GetFromJsonAsync<JsonElement[]>("/api/shares") ?? []);
        Assert.Single(await owner.GetFromJsonAsync<JsonElement[]>("/api/shares") ?? []);
    }

    [Fact]
    public async Task The_share_page_takes_a_gallery_selection_from_the_server_for_the_same_account_only()
    {
        await using var app = new SharingFactory();
        var alice = await app.ClientAsAsync(SharingRole.Member, "alice");
        var bob = await app.ClientAsAsync(SharingRole.Member, "bob");
        // More ids than any URL could carry (3000 x 24 hex digits): only the draft's key travels.
        var ids = Enumerable.Range(0, 3000).Select(i => i.ToString("x24", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var key = app.Services.GetRequiredService<SelectionDrafts>().Put("alice", ids);
        Assert.Contains("3000 image(s) selected in the gallery.", await alice.GetStringAsync($"/shares?selection={key}"));
        Assert.DoesNotContain("selected in the gallery", await bob.GetStringAsync($"/shares?selection={key}"));
    }

    public static async Task<HttpResponseMessage> SubmitPinAsync(HttpClient client, string token, string pin)
    {
        var page = await client.GetStringAsync($"/s/{token}");
        return await client.PostAsync($"/s/{token}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = SharingFactory.AntiforgeryToken(page),
            ["_handler"] = "share-pin",
            ["Pin.Value"] = pin,
        }));
    }

    public static List<string> ImageIdsOn(string html) => [.. ImageIdPattern().Matches(html).Select(m => m.Groups[1].Value)];

    private static async Task<string> ReadSharingDbAsync(SharingFactory app)
    {
        // Read a copy: the app holds the file open.
        var copy = Path.GetTempFileName();
        File.Copy(Path.Combine(app.DataPath, SharingDatabase.FileName), copy, overwrite: true);
        try { return System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(copy)); }
        finally { File.Delete(copy); }
    }

    [GeneratedRegex("data-image-id=\"([0-9a-f]{24})\"")]
    private static partial Regex ImageIdPattern();
}
