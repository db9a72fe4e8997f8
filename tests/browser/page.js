// tests/browser/page.js: the approval page in headless Chromium (Debian's
// /usr/bin/chromium, driven by puppeteer-core; nothing is downloaded).
// Signs in through the OpenID Connect fake, reads a request, approves
// it; denies another with a reason; modifies a third. Screenshots at
// desktop and phone width go to $ART. t-page.sh runs it and checks the
// votes it leaves in the broker.
//
// Environment: URL (the broker), HOSTILE (set: the request's argv is
// t-page.sh's hostile one, its rules and model are checked too), ART (artefact directory, or unset for
// no screenshots), IDA, IDD, IDM (the requests to approve, deny and
// modify; IDD and IDM may be unset, and then are skipped), OPEN (the URL
// to open IDA at, e.g. a Teams card's link; default URL/approve/IDA),
// SHOT (a screenshot of IDA's page as opened), REFUSE (text the page of
// IDA must say instead of offering Approve; nothing is clicked).
"use strict";
// CommonJS, so that NODE_PATH (npm root -g) finds the global package
const puppeteer = require("puppeteer-core");

const { URL: base, ART: art, IDA, IDD, IDM } = process.env;

function check(ok, what) {
	if (!ok)
		throw new Error("failed: " + what);
	console.log("ok: " + what);
}

async function open(page, id, url) {
	await page.goto(url || `${base}/approve/${id}`, { waitUntil: "load" });
	if (process.env.REFUSE)	// a refused sign-in stays on its callback
		return;
	check(page.url() === `${base}/approve/${id}`,
	    `signed in and back on /approve/${id} (at ${page.url()})`);
}

async function submit(page, button) {
	await Promise.all([page.waitForNavigation({ waitUntil: "load" }),
	    page.click(button)]);
	return page.$eval("#notice", (e) => e.textContent);
}

async function main() {
	const browser = await puppeteer.launch({
		executablePath: "/usr/bin/chromium",
		headless: true,
		args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
	});
	try {
		const page = await browser.newPage();
		const blocked = [];
		page.on("console", (m) => {
			if (/Content Security Policy/.test(m.text()))
				blocked.push(m.text());
		});
		await page.setViewport({ width: 1280, height: 900 });
		await open(page, IDA, process.env.OPEN);
		if (process.env.SHOT)
			await page.screenshot({ path: process.env.SHOT,
			    fullPage: true });

		const text = await page.$eval("main", (e) => e.innerText);
		if (process.env.REFUSE) {
			check(text.includes(process.env.REFUSE) &&
			    await page.$("button.approve") === null,
			    `refused: "${process.env.REFUSE}", no Approve button`);
			return;
		}
		check(text.includes("Signed in as") && text.includes(IDA),
		    "the request and the person signed in are on the page");
		if (process.env.HOSTILE) {
			check(text.includes("<script>alert(1)</script>"),
			    "the hostile argument is shown as text");
			check(await page.$$eval("script, img", (l) => l.length) === 0,
			    "no script or img element came out of the argv");
			check(text.includes("prod-restart") &&
			    text.includes("claude-test"),
			    "the rules and the model are on the page");
		}
		check(await page.evaluate(() => document.cookie) === "",
		    "the session cookie is out of the page's reach (HttpOnly)");
		check(blocked.length === 0,
		    "the page needs nothing its CSP refuses: " + blocked.join("; "));
		if (art) {
			await page.screenshot({ path: `${art}/page-desktop.png`,
			    fullPage: true });
			await page.setViewport({ width: 390, height: 844,
			    deviceScaleFactor: 2, isMobile: true, hasTouch: true });
			await page.reload({ waitUntil: "load" });
			await page.screenshot({ path: `${art}/page-phone.png`,
			    fullPage: true });
			const wide = await page.evaluate(() =>
			    document.documentElement.scrollWidth);
			check(wide <= 390,
			    `the phone-width page does not scroll sideways (${wide})`);
		}

		let t0 = Date.now();
		let notice = await submit(page, "button.approve");
		check(notice.includes("Your approval is recorded."),
		    `Approve: "${notice}" in ${Date.now() - t0} ms`);
		console.log(`clicked at ${t0}`);
		if (!IDD)
			return;

		await page.setViewport({ width: 1280, height: 900 });
		await open(page, IDD);
		await page.type("form:has(button.deny) input[name=reason]",
		    "not during the freeze");
		notice = await submit(page, "button.deny");
		check(notice.includes("Your denial is recorded."), `Deny: "${notice}"`);

		await open(page, IDM);
		await page.$eval("textarea[name=argv]", (e) => { e.value = ""; });
		await page.type("textarea[name=argv]", "/bin/echo\nsafe");
		await page.type("form:has(button.modify) input[name=reason]",
		    "echo only");
		notice = await submit(page, "button.modify");
		check(notice.includes("Your modified command is recorded."),
		    `Modify: "${notice}"`);
		if (art)
			await page.screenshot({ path: `${art}/page-voted.png`,
			    fullPage: true });
	} finally {
		await browser.close();
	}
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
