using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>The owner at this machine is the owner in every respect: not rate limited, and owner of their links before set-up.</summary>
public sealed class OwnerExemptionTests
{
    [Fact]
    public async Task Rate_limits_hold_members_but_not_the_owner_at_this_machine_nor_trusted_accounts()
    {
        await using var app = new SharingFactory(new() { ["Sharing:GenerationsPerMinute"] = "3" });
        app.EnsureOwner();
        var local = app.NewClient();
        local.DefaultRequestHeaders.Add(TestRemoteAddress.Header, "127.0.0.1");
        var member = await app.ClientAsAsync(SharingRole.Member, "member");
        var trusted = await app.ClientAsAsync(SharingRole.Member, "script");
        app.Accounts.SetTrusted("script", true);

        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, await SubmitAsync(local, 8));
        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, await SubmitAsync(trusted, 8));
        var statuses = await SubmitAsync(member, 5);
        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, statuses.Take(3));
        Assert.All(statuses.Skip(3), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
    }

    [Fact]
    public async Task Before_set_up_the_owner_at_this_machine_shares_their_own_images()
    {
        await using var app = new SharingFactory(defaultRemote: IPAddress.Loopback);
        var images = await app.AddImagesAsync("made before set-up", "also mine");
        var owner = app.NewClient();
        using var created = await owner.PostAsJsonAsync("/api/shares", new { kind = "Selection", imageIds = images.Select(i => i.Key) });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        app.EnsureOwner();
        var visitor = app.NewClient();
        visitor.DefaultRequestHeaders.Add(TestRemoteAddress.Header, SharingFactory.LanClient.ToString());
        var page = await visitor.GetStringAsync($"/s/{token}");
        Assert.Equal(images.Select(i => i.Key).Order(), ShareLinkTests.ImageIdsOn(page).Order());
        // After set-up the owner, now logged in from another device, still manages that link.
        var remoteOwner = await app.ClientAsAsync(SharingRole.Owner);
        var listed = await remoteOwner.GetFromJsonAsync<JsonElement>("/api/shares");
        Assert.Equal(1, listed.GetArrayLength());
    }

    // Bodies that fail validation: the limiter answers before the endpoint, so 429 or not is all that matters here.
    private static async Task<List<HttpStatusCode>> SubmitAsync(HttpClient client, int count)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var response = await client.PostAsync("/api/jobs", new StringContent("{\"prompt\": 5}", Encoding.UTF8, "application/json"));
            statuses.Add(response.StatusCode);
        }
        return statuses;
    }
}
