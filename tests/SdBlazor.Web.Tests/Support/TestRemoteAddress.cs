using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace SdBlazor.Web.Tests.Support;

/// <summary>
/// Test hosts only: TestServer requests have no remote address, which production code rightly treats as "not
/// local". This sets one: <see cref="Default"/> when the request has none (127.0.0.1 for the existing tests, which
/// run as the local owner), or the address named by the <c>X-Test-Remote-Ip</c> header, so one test host can
/// serve both "this computer" and "another device on the LAN".
/// </summary>
public sealed class TestRemoteAddress(IPAddress defaultAddress) : IStartupFilter
{
    public const string Header = "X-Test-Remote-Ip";

    public IPAddress Default { get; } = defaultAddress;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (context.Request.Headers.TryGetValue(Header, out var value) && IPAddress.TryParse(value.ToString(), out var address))
                context.Connection.RemoteIpAddress = address;
            else
                context.Connection.RemoteIpAddress ??= Default;
            return nextMiddleware(context);
        });
        next(app);
    };
}
