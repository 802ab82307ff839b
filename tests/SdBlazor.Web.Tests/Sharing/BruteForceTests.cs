using System.Diagnostics;
using System.Net;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Tests.Sharing;

public sealed class BruteForceTests
{
    [Fact]
    public async Task Wrong_passwords_lock_the_account_and_even_the_right_one_is_refused_during_the_lockout()
    {
        await using var app = new SharingFactory(new() { ["Sharing:MaxFailedLogins"] = "3", ["Sharing:LoginAttemptsPerMinute"] = "100" });
        app.EnsureAccount("member", SharingRole.Member);
        var client = app.NewClient();

        for (var i = 0; i < 2; i++)
        {
            using var wrong = await SharingFactory.LoginAsync(client, "member", "wrong password " + i);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using var third = await SharingFactory.LoginAsync(client, "member", "wrong password 3");
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Contains("locked", await third.Content.ReadAsStringAsync());

        using var right = await SharingFactory.LoginAsync(client, "member", SharingFactory.Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/gallery")).StatusCode);
        Assert.True(app.Accounts.IsLockedForRemoteLogins("member"));

        // HTTP Basic goes through the same lockout.
        var api = app.NewClient();
        api.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("member:correct horse battery"u8.ToArray()));
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/sdapi/v1/samplers")).StatusCode);
    }

    [Fact]
    public async Task Many_attempts_from_one_address_are_rate_limited_across_user_names()
    {
        await using var app = new SharingFactory(new() { ["Sharing:LoginAttemptsPerMinute"] = "5" });
        app.EnsureOwner();
        var client = app.NewClient();
        var statuses = new List<HttpStatusCode>();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 8; i++)
        {
            using var response = await SharingFactory.LoginAsync(client, "user" + i, "guess " + i);
            statuses.Add(response.StatusCode);
        }
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), statuses.Take(5));
        Assert.All(statuses.Skip(5), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        Assert.True(watch.Elapsed < TimeSpan.FromMinutes(1));

        // Another address is not affected.
        var other = app.NewClient();
        other.DefaultRequestHeaders.Add(Support.TestRemoteAddress.Header, "192.0.2.77");
        using var fromElsewhere = await SharingFactory.LoginAsync(other, SharingFactory.OwnerName, SharingFactory.Password);
        Assert.Equal(HttpStatusCode.Redirect, fromElsewhere.StatusCode);
    }

    [Fact]
    public async Task Share_pins_are_rate_limited_too()
    {
        await using var app = new SharingFactory(new() { ["Sharing:LoginAttemptsPerMinute"] = "3" });
        app.EnsureOwner();
        var images = await app.AddImagesAsync("pinned");
        var (_, token) = app.Services.GetService(typeof(SdBlazor.Web.Sharing.Shares.ShareStore)) is SdBlazor.Web.Sharing.Shares.ShareStore store
            ? store.Create(new() { Kind = SdBlazor.Web.Sharing.Shares.ShareKind.Selection, ImageIds = [images[0].Key], Pin = "4321" }, SharingFactory.OwnerName)
            : throw new InvalidOperationException();
        var client = app.NewClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await ShareLinkTests.SubmitPinAsync(client, token, "00" + i + i);
            statuses.Add(response.StatusCode);
        }
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }
}
