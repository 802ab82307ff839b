using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using SdBlazor.Web.Sharing.Auth;

namespace SdBlazor.Web.Sharing.Accounts;

public sealed class AccountException(string message) : Exception(message);

public enum LoginOutcome
{
    Success,
    WrongCredentials,

    /// <summary>Too many wrong passwords for this user name (whether it exists or not): wait until <see cref="LoginResult.RetryAfterUtc"/>.</summary>
    LockedOut,

    /// <summary>This client address used up its password checks for the minute.</summary>
    TooManyAttempts,
}

public sealed record LoginResult(LoginOutcome Outcome, Account? Account, DateTime? RetryAfterUtc = null);

/// <summary>Accounts, passwords (Identity's hasher) with login throttling (<see cref="LoginThrottle"/>), and invite links.</summary>
public sealed partial class AccountStore(SharingDatabase db, LoginThrottle throttle, VerifiedCredentials verified, TimeProvider time)
{
    public const int MinPasswordLength = 8;
    private readonly PasswordHasher<Account> _hasher = new();
    private long _passwordChecks;

    // Verified against when the user name is unknown, so a wrong name takes as long as a wrong password.
    private readonly Lazy<string> _dummyHash = new(() => new PasswordHasher<Account>().HashPassword(new Account(), "not-a-real-password"));

    public event Action? Changed;

    /// <summary>Password hashes computed to check a password since start (each costs tens of milliseconds of CPU).</summary>
    public long PasswordChecks => Interlocked.Read(ref _passwordChecks);

    public bool HasOwner() => db.Accounts.Exists(a => a.Role == SharingRole.Owner);

    public IReadOnlyList<Account> List() => db.Accounts.FindAll().OrderByDescending(a => a.Role).ThenBy(a => a.Id).ToList();

    public Account? Find(string userName) => db.Accounts.FindById(Normalize(userName));

    /// <summary>Whether guesses from other devices have locked this name for now (the settings page shows it).</summary>
    public bool IsLockedForRemoteLogins(string userName) => throttle.LockedUntil(Normalize(userName), local: false) is not null;

    /// <summary>First-run setup: creates the owner; refused once one exists.</summary>
    public Account CreateOwner(string userName, string password) => db.Locked(() =>
    {
        if (HasOwner()) throw new AccountException("An owner already exists; log in instead.");
        return Insert(userName, password, SharingRole.Owner);
    });

    /// <summary>
    /// Checks a password. Every refusal looks the same whether or not the name exists: the same outcomes in the
    /// same order (the throttle counts unknown names too) and the same work (an unknown name is checked against a
    /// dummy hash).
    /// </summary>
    public LoginResult VerifyLogin(string userName, string password, LoginOrigin origin)
    {
        var name = Normalize(userName);
        if (throttle.LockedUntil(name, origin.IsLocal) is { } locked) return new LoginResult(LoginOutcome.LockedOut, null, locked);
        if (!origin.IsLocal && !throttle.TryTakeCheck(origin.Address))
            return new LoginResult(LoginOutcome.TooManyAttempts, null, time.GetUtcNow().UtcDateTime.AddMinutes(1));

        var account = db.Accounts.FindById(name);
        // Outside the database lock: 65 ms of hashing must not hold up view counts and other logins.
        Interlocked.Increment(ref _passwordChecks);
        var verdict = _hasher.VerifyHashedPassword(account ?? new Account(), account?.PasswordHash ?? _dummyHash.Value, password ?? "");
        if (account is null || verdict == PasswordVerificationResult.Failed)
        {
            return throttle.Failed(name, origin.IsLocal) is { } until
                ? new LoginResult(LoginOutcome.LockedOut, null, until)
                : new LoginResult(LoginOutcome.WrongCredentials, null);
        }
        throttle.Succeeded(name, origin.IsLocal);
        var now = time.GetUtcNow().UtcDateTime;
        var updated = db.Locked(() =>
        {
            var current = db.Accounts.FindById(account.Id);
            if (current is null || current.PasswordHash != account.PasswordHash) return null; // changed meanwhile
            if (verdict == PasswordVerificationResult.SuccessRehashNeeded) current.PasswordHash = _hasher.HashPassword(current, password!);
            current.LastLoginUtc = now;
            db.Accounts.Update(current);
            return current;
        });
        return updated is null ? new LoginResult(LoginOutcome.WrongCredentials, null) : new LoginResult(LoginOutcome.Success, updated);
    }

    /// <summary>
    /// HTTP Basic: <see cref="VerifyLogin"/>, except that a name and password verified in the last
    /// <see cref="VerifiedCredentials.Lifetime"/> are not hashed again (clients send them with every request).
    /// </summary>
    public LoginResult VerifyApiLogin(string userName, string password, LoginOrigin origin)
    {
        var key = verified.KeyOf(Normalize(userName), password ?? "");
        if (verified.Find(key, accountId => db.Accounts.FindById(accountId)?.PasswordHash) is { } id && db.Accounts.FindById(id) is { } known)
            return new LoginResult(LoginOutcome.Success, known);
        var result = VerifyLogin(userName, password ?? "", origin);
        if (result is { Outcome: LoginOutcome.Success, Account: { } account }) verified.Remember(key, account.Id, account.PasswordHash);
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

    /// <summary>Sets a new password (the caller has checked the current one, or is the owner at this machine).</summary>
    public void ChangePassword(string userName, string newPassword) => db.Locked(() =>
    {
        var account = Find(userName) ?? throw new AccountException($"No account '{userName}'.");
        CheckPassword(newPassword);
        account.PasswordHash = _hasher.HashPassword(account, newPassword);
        db.Accounts.Update(account);
        return 0;
    });

    /// <summary>Rate limits do not apply to trusted accounts (the owner's own scripts under a member account, say).</summary>
    public void SetTrusted(string userName, bool trusted) => db.Locked(() =>
    {
        var account = Find(userName) ?? throw new AccountException($"No account '{userName}'.");
        account.Trusted = trusted;
        db.Accounts.Update(account);
        Changed?.Invoke();
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
