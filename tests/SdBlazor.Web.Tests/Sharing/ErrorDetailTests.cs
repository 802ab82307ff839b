using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// <c>dotnet run --lan</c> runs in Development: a failure must still show LAN clients a plain message, and only
/// this machine's browser the developer page with the exception.
/// </summary>
public sealed class ErrorDetailTests
{
    private const string Secret = "test-secret-detail-7f3a";

    [Fact]
    public async Task Lan_clients_get_no_exception_details_even_in_development()
    {
        await using var app = new SharingFactory(environment: "Development") { TestServices = s => s.AddSingleton<IStartupFilter>(new FailingTail()) };
        var lanOwner = await app.ClientAsAsync(SharingRole.Owner);
        using var remote = await lanOwner.GetAsync("/test-failure");
        Assert.Equal(HttpStatusCode.InternalServerError, remote.StatusCode);
        var body = await remote.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Secret, body);
        Assert.DoesNotContain(nameof(InvalidOperationException), body);
        Assert.Contains("An error occurred", body);

        var local = app.NewClient();
        local.DefaultRequestHeaders.Add(TestRemoteAddress.Header, "127.0.0.1");
        using var onThisMachine = await local.GetAsync("/test-failure");
        Assert.Equal(HttpStatusCode.InternalServerError, onThisMachine.StatusCode);
        Assert.Contains(Secret, await onThisMachine.Content.ReadAsStringAsync());
    }

    /// <summary>A request no endpoint takes falls through the app's pipeline to this, which fails.</summary>
    private sealed class FailingTail : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Run(_ => throw new InvalidOperationException(Secret));
        };
    }
}
