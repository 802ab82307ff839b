using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Sharing.Accounts;

namespace SdBlazor.Web.Sharing.Auth;

/// <summary>The browser on this machine is the owner (unless <c>Sharing:RequireLoginOnLoopback</c>); see <see cref="LocalRequests"/>.</summary>
public sealed class LoopbackOwnerHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions, ILoggerFactory logger, UrlEncoder encoder,
    IOptions<SharingOptions> sharing, SharingDatabase db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (sharing.Value.RequireLoginOnLoopback || !LocalRequests.IsLocal(Context)) return Task.FromResult(AuthenticateResult.NoResult());
        var owner = db.Accounts.FindOne(a => a.Role == SharingRole.Owner);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(SharingClaims.LocalOwner(owner?.UserName), Scheme.Name)));
    }
}
