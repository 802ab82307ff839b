using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Sharing.Accounts;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// Password guessing through the login form and HTTP Basic: per-name throttling that says nothing about which names
/// exist and cannot lock the owner out at this machine, and a bounded number of password hashes however many
/// requests come.
/// </summary>
public sealed partial class LoginThrottleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_unknown_user_name_gets_the_same_answers_as_a_real_one_in_the_same_time()
    {
        await using var app = new SharingFactory(new() { ["Sharing:MaxFailedLogins"] = "3", ["Sharing:LoginAttemptsPerMinute"] = "1000" });
        app.EnsureAccount("member", SharingRole.Member);
        var answers = new Dictionary<string, List<string>>();
        foreach (var name in new[] { "member", "nobody" })
        {
            var client = app.NewClient();
            answers[name] = [];
            for (var i = 0; i < 6; i++)
            {
                using var response = await SharingFactory.LoginAsync(client, name, "wrong password " + i);
                var error = ErrorText().Match(await response.Content.ReadAsStringAsync()).Groups[1].Value;
                // Lock times differ by the moment of the request, not by whether the name exists.
                answers[name].Add($"{(int)response.StatusCode} {Digits().Replace(error, "#")}");
            }
        }
        output.WriteLine(string.Join('\n', answers["member"]));
        Assert.Equal(answers["member"], answers["nobody"]);
        Assert.Contains(answers["nobody"], a => a.StartsWith("429", StringComparison.Ordinal));

        // The same work: a wrong password for a real name and any password for an unknown name each cost one hash.
        app.EnsureAccount("timed", SharingRole.Member);
        var real = new List<double>();
        var unknown = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            real.Add(Time(() => app.Accounts.VerifyLogin("timed", "wrong", new LoginOrigin("timing-" + i, IsLocal: false))));
            unknown.Add(Time(() => app.Accounts.VerifyLogin("nobody-" + i, "wrong", new LoginOrigin("timing-u" + i, IsLocal: false))));
            app.Accounts.VerifyLogin("timed", SharingFactory.Password, new LoginOrigin("reset" + i, IsLocal: false)); // stays under the lock threshold
        }
        var ratio = Median(real) / Median(unknown);
        output.WriteLine($"median wrong password: real name {Median(real):F1} ms, unknown name {Median(unknown):F1} ms (ratio {ratio:F2})");
        Assert.InRange(ratio, 0.5, 2.0);
    }

    [Fact]
    public async Task Guesses_from_the_lan_lock_the_name_there_but_never_lock_out_the_owner_at_this_machine()
    {
        await using var app = new SharingFactory(new()
        {
            ["Sharing:RequireLoginOnLoopback"] = "true", ["Sharing:MaxFailedLogins"] = "3", ["Sharing:LoginAttemptsPerMinute"] = "1000",
        });
        app.EnsureOwner();
        var attacker = app.NewClient();
        for (var i = 0; i < 10; i++)
        {
            using var guess = await attacker.SendAsync(Basic(HttpMethod.Get, "/sdapi/v1/samplers", SharingFactory.OwnerName, "guess " + i));
            Assert.Equal(HttpStatusCode.Unauthorized, guess.StatusCode);
        }
        // From the LAN even the right password is refused for now...
        using var remoteRight = await attacker.SendAsync(Basic(HttpMethod.Get, "/sdapi/v1/samplers", SharingFactory.OwnerName, SharingFactory.Password));
        Assert.Equal(HttpStatusCode.Unauthorized, remoteRight.StatusCode);
        Assert.True(app.Accounts.IsLockedForRemoteLogins(SharingFactory.OwnerName));

        // ...but at this machine the owner logs in, through the form and through HTTP Basic.
        var local = app.NewClient();
        local.DefaultRequestHeaders.Add(TestRemoteAddress.Header, "127.0.0.1");
        using var login = await SharingFactory.LoginAsync(local, SharingFactory.OwnerName, SharingFactory.Password);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        using var script = await local.SendAsync(Basic(HttpMethod.Get, "/sdapi/v1/samplers", SharingFactory.OwnerName, SharingFactory.Password));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
    }

    [Fact]
    public async Task Each_wrong_password_beyond_the_allowance_doubles_the_wait()
    {
        await using var app = new SharingFactory(new() { ["Sharing:MaxFailedLogins"] = "2", ["Sharing:LoginDelaySeconds"] = "1", ["Sharing:LoginAttemptsPerMinute"] = "1000" });
        app.EnsureAccount("member", SharingRole.Member);
        var from = new LoginOrigin("192.0.2.9", IsLocal: false);
        Assert.Equal(LoginOutcome.WrongCredentials, app.Accounts.VerifyLogin("member", "x", from).Outcome);
        var waits = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var locked = app.Accounts.VerifyLogin("member", "x", from);
            Assert.Equal(LoginOutcome.LockedOut, locked.Outcome);
            var wait = (locked.RetryAfterUtc!.Value - DateTime.UtcNow).TotalSeconds;
            waits.Add(wait);
            // During the lock, not even the right password gets in (and nothing is hashed).
            Assert.Equal(LoginOutcome.LockedOut, app.Accounts.VerifyLogin("member", SharingFactory.Password, from).Outcome);
            await Task.Delay(TimeSpan.FromSeconds(wait + 0.1));
        }
        output.WriteLine("waits: " + string.Join(", ", waits.Select(w => w.ToString("F2"))));
        // Measured just after each refusal: at most the lock, and more than the lock before it.
        Assert.InRange(waits[0], 0.0, 1.0);
        Assert.InRange(waits[1], 1.0, 2.0);
        Assert.InRange(waits[2], 2.0, 4.0);
        Assert.Equal(LoginOutcome.Success, app.Accounts.VerifyLogin("member", SharingFactory.Password, from).Outcome);
    }

    [Fact]
    public async Task Repeated_good_basic_requests_cost_one_password_hash_until_the_password_changes()
    {
        await using var app = new SharingFactory();
        app.EnsureAccount("member", SharingRole.Member);
        var client = app.NewClient();
        var before = app.Accounts.PasswordChecks;
        for (var i = 0; i < 25; i++)
        {
            using var response = await client.SendAsync(Basic(HttpMethod.Get, "/sdapi/v1/samplers", "member", SharingFactory.Password));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(1, app.Accounts.PasswordChecks - before);

        app.Accounts.ChangePassword("member", "the next password");
        using var old = await client.SendAsync(Basic(HttpMethod.Get, "/sdapi/v1/samplers", "member", SharingFactory.Password));
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        using var fresh = await client.SendAsync(Basic(HttpMethod.Get, "/sdapi/v1/samplers", "member", "the next password"));
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
    }

    [Fact]
    public async Task A_flood_of_bad_basic_requests_costs_at_most_the_address_budget_in_hashes()
    {
        await using var app = new SharingFactory(new() { ["Sharing:LoginAttemptsPerMinute"] = "10" });
        app.EnsureAccount("member", SharingRole.Member);
        var client = app.NewClient();
        var before = app.Accounts.PasswordChecks;
        var watch = Stopwatch.StartNew();
        // One IPv4 address, then 40 addresses of one IPv6 /64 (which one device or home usually has).
        for (var i = 0; i < 60; i++)
        {
            var request = Basic(HttpMethod.Get, "/sdapi/v1/samplers", "user" + i, "guess");
            request.Headers.Add(TestRemoteAddress.Header, i < 20 ? "192.0.2.77" : $"2001:db8:5:6::{i:x}");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        var hashes = app.Accounts.PasswordChecks - before;
        output.WriteLine($"60 bad requests: {hashes} password hashes, {watch.ElapsedMilliseconds} ms");
        Assert.Equal(20, hashes);
    }

    private static HttpRequestMessage Basic(HttpMethod method, string path, string user, string password) => new(method, path)
    {
        Headers = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"))) },
    };

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    [GeneratedRegex("<p class=\"sd-error\" role=\"alert\">([^<]*)</p>")]
    private static partial Regex ErrorText();

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Digits();
}
