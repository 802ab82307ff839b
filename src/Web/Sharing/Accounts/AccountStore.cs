using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace SdBlazor.Web.Sharing.Accounts;

public sealed class AccountException(string message) : Exception(message);

public enum LoginOutcome
{
    Success,
    WrongCredentials,
    LockedOut,
}

public sealed record LoginResult(LoginOutcome Outcome, Account? Account, DateTime? LockedUntilUtc = null);

/// <summary>Accounts, passwords (Identity's hasher) with per-account lockout, and invite links.</summary>
public sealed partial class AccountStore(SharingDatabase db, IOptions<SharingOptions> options, TimeProvider time)
{
    public const int MinPasswordLength = 8;
    private readonly PasswordHasher<Account> _hasher = new();

    // Verified against when the user name is unknown, so a wrong name takes as long as a wrong password.
    private readonly Lazy<string> _dummyHash = new(() => new PasswordHasher<Account>().HashPassword(new Account(), "not-a-real-password"));

    public event Action? Changed;

    public bool HasOwner() => db.Accounts.Exists(a => a.Role == SharingRole.Owner);

    public IReadOnlyList<Account> List() => db.Accounts.FindAll().OrderByDescending(a => a.Role).ThenBy(a => a.Id).ToList();

    public Account? Find(string userName) => db.Accounts.FindById(Normalize(userName));

    /// <summary>First-run setup: creates the owner; refused once one exists.</summary>
    public Account CreateOwner(string userName, string password) => db.Locked(() =>
    {
        if (HasOwner()) throw new AccountException("An owner already exists; log in instead.");
        return Insert(userName, password, SharingRole.Owner);
    });

    public LoginResult VerifyLogin(string userName, string password)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var result = db.Locked(() =>
        {
            var account = db.Accounts.FindById(Normalize(userName));
            if (account is null)
            {
                _hasher.VerifyHashedPassword(new Account(), _dummyHash.Value, password ?? "");
                return new LoginResult(LoginOutcome.WrongCredentials, null);
            }
            // A locked account does not even check the password: guessing during the lockout teaches nothing.
            if (account.LockedUntilUtc > now) return new LoginResult(LoginOutcome.LockedOut, null, account.LockedUntilUtc);

            var verdict = _hasher.VerifyHashedPassword(account, account.PasswordHash, password ?? "");
            if (verdict == PasswordVerificationResult.Failed)
            {
                account.FailedLogins++;
                if (account.FailedLogins >= options.Value.MaxFailedLogins)
                {
                    account.LockedUntilUtc = now.AddMinutes(options.Value.LockoutMinutes);
                    account.FailedLogins = 0;
                }
                db.Accounts.Update(account);
                return account.LockedUntilUtc > now
                    ? new LoginResult(LoginOutcome.LockedOut, null, account.LockedUntilUtc)
                    : new LoginResult(LoginOutcome.WrongCredentials, null);
            }
            if (verdict == PasswordVerificationResult.SuccessRehashNeeded) account.PasswordHash = _hasher.HashPassword(account, password!);
            account.FailedLogins = 0;
            account.LockedUntilUtc = null;
            account.LastLoginUtc = now;
            db.Accounts.Update(account);
            return new LoginResult(LoginOutcome.Success, account);
        });
        return result;
    }

    public string CreateInvite(SharingRole role, TimeSpan lifetime, string createdBy)
    {
        if (role == SharingRole.Owner) throw new AccountException("There is one owner; invite members or viewers.");
        var token = SecretTokens.New();
        var now = time.GetUtcNow().UtcDateTime;
        db.Invites.Insert(new Invite { TokenHash = SecretTokens.Hash(token), Role = role, CreatedUtc = now, ExpiresUtc = now + lifetime, CreatedBy = createdBy });
        Changed?.Invoke();
        return token;
    }

    public IReadOnlyList<Invite> OpenInvites()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return db.Invites.Find(i => i.UsedBy == null && i.ExpiresUtc > now).OrderByDescending(i => i.CreatedUtc).ToList();
    }

    public Invite? FindInvite(string token)
    {
        if (!SecretTokens.LooksValid(token)) return null;
        var invite = db.Invites.FindById(SecretTokens.Hash(token));
        return invite is { UsedBy: null } && invite.ExpiresUtc > time.GetUtcNow().UtcDateTime ? invite : null;
    }

    public void RevokeInvite(string tokenHash)
    {
        db.Invites.Delete(tokenHash);
        Changed?.Invoke();
    }

    public Account RedeemInvite(string token, string userName, string password) => db.Locked(() =>
    {
        var invite = FindInvite(token) ?? throw new AccountException("This invite link is invalid, used or expired.");
        var account = Insert(userName, password, invite.Role);
        invite.UsedBy = account.Id;
        db.Invites.Update(invite);
        return account;
    });

    public void SetRole(string userName, SharingRole role) => db.Locked(() =>
    {
        var account = Find(userName) ?? throw new AccountException($"No account '{userName}'.");
        if (account.Role == SharingRole.Owner || role == SharingRole.Owner) throw new AccountException("The owner's role cannot change, and there is one owner.");
        account.Role = role;
        db.Accounts.Update(account);
        Changed?.Invoke();
        return 0;
    });

    public void Delete(string userName) => db.Locked(() =>
    {
        var account = Find(userName) ?? throw new AccountException($"No account '{userName}'.");
        if (account.Role == SharingRole.Owner) throw new AccountException("The owner account cannot be deleted.");
        db.Accounts.Delete(account.Id);
        Changed?.Invoke();
        return 0;
    });

    public void ChangePassword(string userName, string newPassword) => db.Locked(() =>
    {
        var account = Find(userName) ?? throw new AccountException($"No account '{userName}'.");
        CheckPassword(newPassword);
        account.PasswordHash = _hasher.HashPassword(account, newPassword);
        account.FailedLogins = 0;
        account.LockedUntilUtc = null;
        db.Accounts.Update(account);
        return 0;
    });

    public static string Normalize(string? userName) => (userName ?? "").Trim().ToLowerInvariant();

    private Account Insert(string userName, string password, SharingRole role)
    {
        var name = (userName ?? "").Trim();
        if (!UserNamePattern().IsMatch(name))
            throw new AccountException("A user name is 1 to 32 letters, digits, '.', '-' or '_'.");
        CheckPassword(password);
        if (db.Accounts.FindById(Normalize(name)) is not null) throw new AccountException($"The name '{name}' is taken.");
        var account = new Account { Id = Normalize(name), UserName = name, Role = role, CreatedUtc = time.GetUtcNow().UtcDateTime };
        account.PasswordHash = _hasher.HashPassword(account, password);
        db.Accounts.Insert(account);
        Changed?.Invoke();
        return account;
    }

    private static void CheckPassword(string? password)
    {
        if (password is null || password.Length < MinPasswordLength)
            throw new AccountException($"A password has at least {MinPasswordLength} characters.");
        if (password.Length > 256) throw new AccountException("A password has at most 256 characters.");
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,32}$")]
    private static partial Regex UserNamePattern();
}
