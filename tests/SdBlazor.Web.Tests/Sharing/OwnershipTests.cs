using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using LiteDB;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Shared;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Tests.Gallery;
using SixLabors.ImageSharp;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// Per-member ownership over real HTTP, a real SignalR connection and the real LiteDB files: two members (alice,
/// bob) and the owner. A member reaches only their own jobs and images, on every route; the owner reaches all.
/// </summary>
public sealed class OwnershipTests
{
    private static readonly GenerationRequest Short = new() { Prompt = "alice secret lighthouse", Steps = 2, Width = 64, Height = 64 };
    private static readonly GenerationRequest Long = new() { Prompt = "alice long job", Steps = GenerationLimits.MaxSteps, BatchCount = 50, Width = 256, Height = 256 };

    [Fact]
    public async Task A_members_jobs_are_invisible_to_another_member_on_every_route_and_visible_to_the_owner()
    {
        await using var app = new SharingFactory();
        var owner = await app.ClientAsAsync(SharingRole.Owner);
        var alice = await app.ClientAsAsync(SharingRole.Member, "alice");
        var bob = await app.ClientAsAsync(SharingRole.Member, "bob");
        var queue = app.Services.GetRequiredService<GenerationQueue>();

        await using var aliceHub = HubAuthorizationTests.Connect(app, app.CookieOf(alice));
        await using var bobHub = HubAuthorizationTests.Connect(app, app.CookieOf(bob));
        await using var ownerHub = HubAuthorizationTests.Connect(app, app.CookieOf(owner));
        await Task.WhenAll(aliceHub.StartAsync(), bobHub.StartAsync(), ownerHub.StartAsync());

        // A long job keeps the worker busy, so a second one stays queued.
        var running = await aliceHub.InvokeAsync<string>("Submit", Long);
        var queued = await SubmitAsync(alice, Short);
        await WaitForAsync(() => queue.Get(running)?.Status == JobStatus.Running, "alice's long job to start");
        Assert.Equal("alice", queue.Get(running)!.Account);
        Assert.Equal("alice", queue.Get(queued)!.Account);

        // Listing: bob sees neither job, alice and the owner see both.
        Assert.DoesNotContain(running, await JobIdsAsync(bob));
        Assert.DoesNotContain(queued, await JobIdsAsync(bob));
        foreach (var client in new[] { alice, owner })
        {
            var ids = await JobIdsAsync(client);
            Assert.Contains(running, ids);
            Assert.Contains(queued, ids);
        }

        // Single job, its preview, cancel: bob gets 404 as for an unknown id.
        foreach (var id in new[] { running, queued })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/jobs/{id}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/jobs/{id}/preview")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await bob.DeleteAsync($"/api/jobs/{id}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/jobs/{id}")).StatusCode);
        }

        // The hub: bob cannot subscribe to (so never receives previews of), cancel, skip or retry alice's job.
        Assert.Null(await bobHub.InvokeAsync<JobSnapshot?>("Subscribe", running));
        Assert.False(await bobHub.InvokeAsync<bool>("Cancel", running));
        Assert.False(await bobHub.InvokeAsync<bool>("Skip", running));
        Assert.False(await bobHub.InvokeAsync<bool>("Cancel", queued));
        Assert.NotNull(await aliceHub.InvokeAsync<JobSnapshot?>("Subscribe", running));
        Assert.NotNull(await ownerHub.InvokeAsync<JobSnapshot?>("Subscribe", running));

        // The A1111 progress: bob sees an idle server with nothing of his queued, alice her job; bob's interrupt misses it.
        Assert.Equal("", (await ProgressAsync(bob)).GetProperty("job").GetString());
        Assert.Equal(0, (await ProgressAsync(bob)).GetProperty("queued_jobs").GetInt32());
        await WaitForAsync(() => ProgressAsync(alice).Result.GetProperty("job").GetString()!.StartsWith("Batch", StringComparison.Ordinal), "alice's progress to show her job");
        Assert.Equal(1, (await ProgressAsync(alice)).GetProperty("queued_jobs").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await bob.PostAsync("/sdapi/v1/interrupt", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bob.PostAsync("/sdapi/v1/skip", null)).StatusCode);

        // Nothing bob did touched the jobs; the owner may cancel anyone's, alice her own.
        Assert.Equal(JobStatus.Running, queue.Get(running)!.Status);
        Assert.Equal(JobStatus.Queued, queue.Get(queued)!.Status);
        Assert.Equal(HttpStatusCode.Accepted, (await owner.DeleteAsync($"/api/jobs/{queued}")).StatusCode);
        Assert.True(await aliceHub.InvokeAsync<bool>("Cancel", running));
        await WaitForAsync(() => queue.Get(running)?.Status == JobStatus.Cancelled, "the long job to stop");
    }

    [Fact]
    public async Task A_member_reorders_only_their_own_jobs_and_job_ownership_survives_a_restart()
    {
        using var folder = new TempFolder();
        string running, alicesFirst, alicesSecond, bobs;
        await using (var app = new SharingFactory(new() { ["Gallery:DataPath"] = folder.Path }))
        {
            var alice = await app.ClientAsAsync(SharingRole.Member, "alice");
            var bob = await app.ClientAsAsync(SharingRole.Member, "bob");
            var queue = app.Services.GetRequiredService<GenerationQueue>();
            running = await SubmitAsync(alice, Long);
            await WaitForAsync(() => queue.Get(running)?.Status == JobStatus.Running, "the long job to start");
            alicesFirst = await SubmitAsync(alice, Short);
            bobs = await SubmitAsync(bob, Short);
            alicesSecond = await SubmitAsync(alice, Short);

            var aliceScope = AccountScope.Member("alice");
            // Alice's second job moves up past her first, never past bob's: the places each account holds stay theirs.
            Assert.True(queue.Move(alicesSecond, -1, aliceScope));
            Assert.False(queue.Move(bobs, -1, aliceScope));
            Assert.False(queue.Move(alicesFirst, -1, AccountScope.Member("bob")));
            var order = queue.List(0, AccountScope.Everything).Where(j => j.Status == JobStatus.Queued).Select(j => j.Id);
            Assert.Equal([alicesSecond, bobs, alicesFirst], order);
            Assert.Throws<GenerationValidationException>(() => queue.Resubmit(running, AccountScope.Member("bob")));
        }

        // After the restart the interrupted job and the queued ones still belong to their submitters.
        await using var again = new SharingFactory(new() { ["Gallery:DataPath"] = folder.Path });
        var restarted = again.Services.GetRequiredService<GenerationQueue>();
        Assert.Equal("alice", restarted.Get(running)!.Account);
        Assert.Equal("alice", restarted.Get(alicesFirst)!.Account);
        Assert.Equal("bob", restarted.Get(bobs)!.Account);
        var bobAgain = await again.ClientAsAsync(SharingRole.Member, "bob");
        var listed = await JobIdsAsync(bobAgain);
        Assert.Contains(bobs, listed);
        Assert.DoesNotContain(running, listed);
        Assert.DoesNotContain(alicesFirst, listed);
        Assert.Equal(HttpStatusCode.NotFound, (await bobAgain.GetAsync($"/api/jobs/{alicesSecond}")).StatusCode);
        foreach (var job in restarted.List(0, AccountScope.Everything)) restarted.Cancel(job.Id, AccountScope.Everything);
    }

    [Fact]
    public async Task A_members_images_are_invisible_to_another_member_on_every_route_and_visible_to_the_owner()
    {
        await using var app = new SharingFactory();
        var owner = await app.ClientAsAsync(SharingRole.Owner);
        var alice = await app.ClientAsAsync(SharingRole.Member, "alice");
        var bob = await app.ClientAsAsync(SharingRole.Member, "bob");
        var index = app.Services.GetRequiredService<GalleryIndex>();

        // Alice's image comes from her job (the worker saves it to her gallery), bob's from an import.
        var job = await SubmitAsync(alice, Short);
        var queue = app.Services.GetRequiredService<GenerationQueue>();
        await WaitForAsync(() => queue.Get(job)?.Status.IsFinished() == true, "alice's job to finish");
        Assert.Equal(JobStatus.Completed, queue.Get(job)!.Status);
        var alices = queue.Get(job)!.ImageIds.Single();
        var bobs = await ImportAsync(app, bob, "bob import harbour");
        var owners = (await app.AddImagesAsync("owner private diary"))[0].Key;
        Assert.Equal("alice", index.Get(new ObjectId(alices))!.Account);
        Assert.Equal("bob", index.Get(new ObjectId(bobs))!.Account);
        Assert.Null(index.Get(new ObjectId(owners))!.Account);

        // Listing and searching.
        Assert.Equal([bobs], await ListAsync(bob, ""));
        Assert.Empty(await ListAsync(bob, "?search=lighthouse"));
        Assert.Equal([alices], await ListAsync(alice, ""));
        Assert.Equal(new[] { bobs, alices, owners }.Order(), (await ListAsync(owner, "")).Order());
        // The owner filters by account ("boss" is the owner: their own images).
        Assert.Equal([alices], await ListAsync(owner, "?owner=alice"));
        Assert.Equal([owners], await ListAsync(owner, "?owner=boss"));
        Assert.Equal([bobs], await ListAsync(bob, "?owner=alice"));

        // Every read route answers 404 for someone else's image (as for an unknown id), 200 for one's own.
        foreach (var (client, own, others) in new[] { (bob, bobs, new[] { alices, owners }), (alice, alices, new[] { bobs, owners }) })
        {
            foreach (var route in new[] { "/api/images/{0}", "/api/images/{0}/thumb", "/api/images/{0}/metadata", "/api/gallery/zip?ids={0}" })
            {
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(string.Format(route, own))).StatusCode);
                foreach (var other in others)
                    Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(string.Format(route, other))).StatusCode);
            }
            // A zip asking for own and others' images holds only one's own.
            using var zip = new System.IO.Compression.ZipArchive(await client.GetStreamAsync($"/api/gallery/zip?ids={own},{string.Join(',', others)}"));
            Assert.Equal([$"{own}.png"], zip.Entries.Select(e => e.Name));
        }
        foreach (var id in new[] { alices, bobs, owners })
        {
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/images/{id}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/images/{id}/metadata")).StatusCode);
        }

        // Filter menus and albums list only what the member's own images have.
        var store = app.Services.GetRequiredService<GalleryStore>();
        store.AddToAlbum([new ObjectId(alices)], "Alice's album");
        Assert.Empty(index.AlbumNames(AccountScope.Member("bob")));
        Assert.Equal(["Alice's album"], index.AlbumNames(AccountScope.Member("alice")));
        Assert.Equal(["64x64"], index.FacetValues("size", AccountScope.Member("alice")).Select(f => f.Value));
        Assert.Equal(["64x48"], index.FacetValues("size", AccountScope.Member("bob")).Select(f => f.Value));
        Assert.Equal(["alice", "bob"], index.MemberAccounts());
    }

    [Fact]
    public async Task A_member_can_share_only_their_own_images()
    {
        await using var app = new SharingFactory();
        await app.ClientAsAsync(SharingRole.Owner);
        var alice = await app.ClientAsAsync(SharingRole.Member, "alice");
        var bob = await app.ClientAsAsync(SharingRole.Member, "bob");
        var alices = await ImportAsync(app, alice, "alice secret lighthouse");
        var bobs = await ImportAsync(app, bob, "bob harbour");
        var owners = (await app.AddImagesAsync("owner lighthouse"))[0].Key;

        // Someone else's id is refused with the same message as an unknown one.
        using var refused = await bob.PostAsJsonAsync("/api/shares", new { kind = "Selection", imageIds = new[] { bobs, alices } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains($"'{alices}' is not one of your images in the gallery.", await refused.Content.ReadAsStringAsync());
        using var unknown = await bob.PostAsJsonAsync("/api/shares", new { kind = "Selection", imageIds = new[] { "0123456789abcdef01234567" } });
        Assert.Contains("is not one of your images in the gallery.", await unknown.Content.ReadAsStringAsync());
        // A search that matches only other people's images shares nothing.
        using var search = await bob.PostAsJsonAsync("/api/shares", new { kind = "Selection", search = "lighthouse" });
        Assert.Equal(HttpStatusCode.BadRequest, search.StatusCode);
        Assert.Contains("the selection is empty", await search.Content.ReadAsStringAsync());
        // Another member's album does not exist for bob.
        app.Services.GetRequiredService<GalleryStore>().AddToAlbum([new ObjectId(alices)], "Lights");
        using var album = await bob.PostAsJsonAsync("/api/shares", new { kind = "Album", album = "Lights" });
        Assert.Equal(HttpStatusCode.BadRequest, album.StatusCode);

        // Bob's whole-gallery link shows bob's image only.
        using var created = await bob.PostAsJsonAsync("/api/shares", new { kind = "Gallery" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var visitor = app.NewClient();
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync($"/s/{token}/images/{bobs}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{token}/images/{alices}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{token}/images/{owners}/thumb")).StatusCode);
        var page = await visitor.GetStringAsync($"/s/{token}");
        Assert.Contains(bobs, page);
        Assert.DoesNotContain(alices, page);
        Assert.DoesNotContain(owners, page);

        // Alice's search share covers her lighthouse, not the owner's.
        using var hers = await alice.PostAsJsonAsync("/api/shares", new { kind = "Selection", search = "lighthouse" });
        Assert.Equal(HttpStatusCode.Created, hers.StatusCode);
        Assert.Equal(1, (await hers.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("share").GetProperty("imageCount").GetInt32());
    }

    [Fact]
    public async Task Images_in_a_gallery_file_from_before_ownership_belong_to_the_owner()
    {
        await using var app = new SharingFactory();
        // Written with the gallery code before the app starts, then made to look like a file from before images had
        // accounts: no owner keys, schema version 0 (rows without an account are what the old code wrote).
        string legacy;
        using (var old = new TestGallery(folder: app.DataPath)) legacy = (await old.SaveAsync("an old sunset")).Key;
        using (var raw = new LiteDatabase(new ConnectionString { Filename = Path.Combine(app.DataPath, GalleryDatabase.FileName), Connection = ConnectionType.Direct }))
        {
            Assert.False(raw.GetCollection("images").FindById(new ObjectId(legacy)).ContainsKey(nameof(GalleryImage.Account)));
            Assert.Equal(1, raw.GetCollection("keys").DeleteMany(LiteDB.Query.StartsWith("_id", "o:")));
            raw.UserVersion = 0;
        }

        var owner = await app.ClientAsAsync(SharingRole.Owner);
        var member = await app.ClientAsAsync(SharingRole.Member, "alice");
        Assert.Equal([legacy], await ListAsync(owner, ""));
        Assert.Equal([legacy], await ListAsync(owner, "?owner=boss"));
        Assert.Empty(await ListAsync(owner, "?owner=alice"));
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/images/{legacy}")).StatusCode);
        Assert.Empty(await ListAsync(member, ""));
        Assert.Equal(HttpStatusCode.NotFound, (await member.GetAsync($"/api/images/{legacy}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await member.GetAsync($"/api/images/{legacy}/thumb")).StatusCode);
        Assert.Equal(GalleryDatabase.SchemaVersion, app.Services.GetRequiredService<GalleryIndex>().Database.UserVersion);
    }

    private static async Task<string> SubmitAsync(HttpClient client, GenerationRequest request)
    {
        using var response = await client.PostAsJsonAsync("/api/jobs", request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JobSnapshot>())!.JobId;
    }

    private static async Task<IReadOnlyList<string>> JobIdsAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<List<JobSnapshot>>("/api/jobs"))!.Select(j => j.JobId).ToList();

    private static async Task<JsonElement> ProgressAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/sdapi/v1/progress")).GetProperty("state");

    private static async Task<IReadOnlyList<string>> ListAsync(HttpClient client, string query) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/gallery" + query)).GetProperty("items").EnumerateArray()
            .Select(i => i.GetProperty("id").GetString()!).ToList();

    private static async Task<string> ImportAsync(SharingFactory app, HttpClient client, string prompt)
    {
        using var response = await app.PostAsBrowserAsync(client, "/api/gallery/import", UploadOf(prompt));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>A multipart upload of a small PNG carrying A1111 parameters with this prompt.</summary>
    internal static MultipartFormDataContent UploadOf(string prompt)
    {
        using var image = TestGallery.MakeImage();
        using var png = new MemoryStream();
        SdBlazor.Engine.Imaging.PngTextChunks.WritePng(image, png,
            [new(SdBlazor.Engine.Imaging.PngTextChunks.ParametersKeyword, SdBlazor.Engine.Imaging.Infotext.Format(TestGallery.Parameters(prompt)))]);
        var content = new MultipartFormDataContent();
        var file = new ByteArrayContent(png.ToArray());
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        content.Add(file, "file", "upload.png");
        return content;
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 1200 && !condition(); i++) await Task.Delay(100);
        Assert.True(condition(), $"timed out waiting for {what}");
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("sdblazor-ownership-").FullName;
        public void Dispose() => Support.AppFactory.TryDelete(Path);
    }
}
