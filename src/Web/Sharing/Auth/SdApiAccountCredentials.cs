using SdBlazor.Web.Api;
using SdBlazor.Web.Sharing.Accounts;

namespace SdBlazor.Web.Sharing.Auth;

/// <summary>
/// The A1111 API's HTTP Basic hook, backed by accounts. Authorization already ran (the <c>/sdapi</c> group needs
/// <see cref="SharingPolicies.Member"/>): a caller who got this far as owner/member (local owner, cookie or Basic)
/// needs nothing more.
/// </summary>
public sealed class SdApiAccountCredentials(AccountStore accounts, IHttpContextAccessor http) : ISdApiCredentials
{
    public bool IsRequired(HttpContext http) => http.User.Role() is not (SharingRole.Owner or SharingRole.Member);

    public bool IsValid(string user, string password) =>
        accounts.VerifyApiLogin(user, password, http.HttpContext is { } context ? LoginOrigin.Of(context) : new LoginOrigin("unknown", false)) is { Outcome: LoginOutcome.Success, Account.Role: SharingRole.Owner or SharingRole.Member };
}
