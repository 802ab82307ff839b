using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using System.Net;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>The generation hub over real SignalR connections (long polling through the test server).</summary>
public sealed class HubAuthorizationTests
{
    [Fact]
    public async Task Anonymous_and_viewers_cannot_connect_members_can_and_their_methods_work()
    {
        await using var app = new SharingFactory();
        var viewer = await app.ClientAsAsync(SharingRole.Viewer);
        var member = await app.ClientAsAsync(SharingRole.Member);

        var anonymousError = await Assert.ThrowsAsync<HttpRequestException>(() => Connect(app, null).StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousError.StatusCode);
        var viewerError = await Assert.ThrowsAsync<HttpRequestException>(() => Connect(app, app.CookieOf(viewer)).StartAsync());
        Assert.Equal(HttpStatusCode.Forbidden, viewerError.StatusCode);

        await using var connection = Connect(app, app.CookieOf(member));
        await connection.StartAsync();
        Assert.Null(await connection.InvokeAsync<JobSnapshot?>("Subscribe", "no-such-job"));
        var id = await connection.InvokeAsync<string>("Submit", new GenerationRequest { Prompt = "a member's job", Steps = 2, Width = 64, Height = 64 });
        Assert.False(string.IsNullOrEmpty(id));
    }

    [Fact]
    public async Task A_cross_origin_browser_cannot_open_the_hub_or_the_circuit_even_as_the_local_owner()
    {
        await using var app = new SharingFactory(defaultRemote: IPAddress.Loopback);
        var client = app.NewClient();
        foreach (var path in new[] { "/hubs/generation/negotiate?negotiateVersion=1", "/_blazor/negotiate?negotiateVersion=1" })
        {
            using var evil = new HttpRequestMessage(HttpMethod.Post, path);
            evil.Headers.Add("Origin", "http://evil.example");
            Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(evil)).StatusCode);
            using var same = new HttpRequestMessage(HttpMethod.Post, path);
            same.Headers.Add("Origin", "http://localhost");
            Assert.NotEqual(HttpStatusCode.Forbidden, (await client.SendAsync(same)).StatusCode);
        }
        // Any state-changing request from another site is refused, cookies or not (CSRF against the local owner).
        using var upload = new HttpRequestMessage(HttpMethod.Post, "/api/gallery/rebuild");
        upload.Headers.Add("Origin", "http://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(upload)).StatusCode);
        using var fetchMeta = new HttpRequestMessage(HttpMethod.Post, "/api/gallery/rebuild");
        fetchMeta.Headers.Add("Sec-Fetch-Site", "cross-site");
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(fetchMeta)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/gallery/rebuild", null)).StatusCode);
    }

    [Fact]
    public async Task Hub_submissions_are_rate_limited_per_account()
    {
        await using var app = new SharingFactory(new() { ["Sharing:GenerationsPerMinute"] = "2" });
        var member = await app.ClientAsAsync(SharingRole.Member);
        await using var connection = Connect(app, app.CookieOf(member));
        await connection.StartAsync();
        var request = new GenerationRequest { Prompt = "x", Steps = 1, Width = 64, Height = 64 };
        await connection.InvokeAsync<string>("Submit", request);
        await connection.InvokeAsync<string>("Submit", request);
        var error = await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync<string>("Submit", request));
        Assert.Contains("Too many generation requests", error.Message);
    }

    internal static HubConnection Connect(SharingFactory app, string? cookie)
    {
        var server = app.Server;
        return new HubConnectionBuilder()
            .WithUrl(new Uri(server.BaseAddress, GenerationHubPaths.Hub), options =>
            {
                options.Transports = HttpTransportType.LongPolling;
                options.HttpMessageHandlerFactory = _ => server.CreateHandler();
                if (cookie is not null) options.Headers["Cookie"] = cookie;
            })
            .AddMessagePackProtocol()
            .Build();
    }
}
