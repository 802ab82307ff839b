using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Sharing.Accounts;

namespace SdBlazor.Web.Sharing.Auth;

/// <summary>
/// A live page (a Blazor circuit) was authenticated once, when it opened; the cookie check on each request never
/// sees it again. This re-checks its login every <see cref="SharingOptions.SessionRevalidationSeconds"/>, so that
/// logging out elsewhere, a password change, a deleted account or a changed role also closes pages already open.
/// </summary>
public sealed class SessionRevalidation(ILoggerFactory logs, AccountStore accounts, LoginSessions sessions, IOptions<SharingOptions> options)
    : RevalidatingServerAuthenticationStateProvider(logs)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(options.Value.SessionRevalidationSeconds);

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        var user = authenticationState.User;
        // The local owner and HTTP Basic carry no session: they are checked on every request anyway.
        if (user.Identity?.AuthenticationType != SharingAuthentication.CookieScheme) return Task.FromResult(true);
        var account = accounts.Find(user.AccountId());
        return Task.FromResult(account is not null && user.Role() == account.Role && sessions.IsValid(user.SessionToken(), account.Id));
    }
}
