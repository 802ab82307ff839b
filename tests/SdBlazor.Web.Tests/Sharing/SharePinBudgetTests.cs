using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Sharing.Shares;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>A PIN link's own budget of wrong PINs, whatever addresses the guesses come from, and the sharer is told.</summary>
public sealed class SharePinBudgetTests
{
    [Fact]
    public async Task Guesses_from_many_addresses_lock_the_link_for_longer_each_time_and_the_owner_sees_it()
    {
        await using var app = new SharingFactory(new() { ["Sharing:MaxWrongPins"] = "3", ["Sharing:PinDelaySeconds"] = "1" });
        app.EnsureOwner();
        var images = await app.AddImagesAsync("behind a pin");
        var store = app.Services.GetRequiredService<ShareStore>();
        var (share, token) = store.Create(new() { Kind = ShareKind.Selection, ImageIds = [images[0].Key], Pin = "8642", Title = "Holiday" }, SharingFactory.OwnerName);

        // Each guess from another address: the per-address limit never triggers.
        var address = 10;
        async Task<HttpStatusCode> GuessAsync(string pin)
        {
            var client = app.NewClient();
            client.DefaultRequestHeaders.Add(TestRemoteAddress.Header, $"198.51.100.{address++}");
            using var response = await ShareLinkTests.SubmitPinAsync(client, token, pin);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await GuessAsync("0000"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GuessAsync("0001"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GuessAsync("0002"));
        var first = LockSeconds(store, share.Id);
        // Locked: not even the right PIN opens it.
        Assert.Equal(HttpStatusCode.TooManyRequests, await GuessAsync("8642"));
        await Task.Delay(TimeSpan.FromSeconds(first + 0.2));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GuessAsync("0003"));
        var second = LockSeconds(store, share.Id);
        Assert.Equal(1.0, first, 0.01);
        Assert.Equal(2.0, second, 0.01);
        await Task.Delay(TimeSpan.FromSeconds(second + 0.2));
        Assert.Equal(HttpStatusCode.Redirect, await GuessAsync("8642"));

        // The owner is told on the share links page and in the API.
        var owner = await app.ClientAsAsync(SharingRole.Owner);
        var page = await owner.GetStringAsync("/shares");
        Assert.Contains("Someone entered 4 wrong PIN(s) for the link “Holiday”", page);
        var listed = (await owner.GetFromJsonAsync<JsonElement>("/api/shares"))[0];
        Assert.Equal(4, listed.GetProperty("wrongPins").GetInt32());
        store.AcknowledgeWrongPins(share.Id);
        Assert.DoesNotContain("wrong PIN(s) for the link", await owner.GetStringAsync("/shares"));
    }

    /// <summary>How long the last wrong PIN locked the link for.</summary>
    private static double LockSeconds(ShareStore store, string id) =>
        store.Get(id) is { PinLockedUntilUtc: { } until, LastWrongPinUtc: { } last } ? (until - last).TotalSeconds : throw new Xunit.Sdk.XunitException("not locked");
}
