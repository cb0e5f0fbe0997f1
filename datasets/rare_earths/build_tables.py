"""Builder of the rare_earths tables: every figure, conversion and source in one place.

Run `python datasets/rare_earths/build_tables.py` to rewrite the CSVs beside it after
changing a figure here; the CSVs are what the optimizer reads, and each row keeps its
source, year, reliability and the conversion in its notes.
"""
import csv
import os

import yaml

OUT = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(OUT, "..", "..", "optimizer", "data", "schema.yaml"), encoding="utf-8") as _schema:
    SCHEMA = yaml.safe_load(_schema)
PROV = list(SCHEMA["provenance_columns"])

def fmt(v):
    if v is None or v == "":
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if abs(v - round(v)) < 1e-9 and abs(v) >= 1:
            return str(round(v))
        return f"{v:.6g}"
    if isinstance(v, (list, tuple)):
        return ";".join(v)
    return str(v)

def write(table, rows):
    cols = list(SCHEMA["tables"][table]["columns"]) + PROV
    with open(os.path.join(OUT, f"{table}.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            extra = set(r) - set(cols)
            assert not extra, (table, extra)
            w.writerow([fmt(r.get(c)) for c in cols])
    print(f"{table}: {len(rows)} rows")

UTIL = 0.85                 # max_utilisation, every stage, every country
NDPR_PER_MAG = 0.34         # t NdPr oxide-eq per t NdFeB (0.29 t metal x 1.17)
NDPR_PER_MAG_LO, NDPR_PER_MAG_HI = 0.32, 0.36
DYTB_PER_MAG = 0.012        # t DyTb oxide-eq per t NdFeB (average over grades)
DYTB_PER_MAG_LO, DYTB_PER_MAG_HI = 0.008, 0.02
METAL_TO_OXIDE = 1.17       # t oxide-eq per t NdPr metal
SEP_YIELD = 0.95

USGS = "USGS Mineral Commodity Summaries 2025, Rare Earths"
REF = "Research notes rare-earth-data.md"

# ---------------------------------------------------------------- countries
G = {
 "USA": ("United States", "five_eyes;g7;quad;msp;oecd;nato", 1.15, "US greenfield builds (eVAC Sumter ~US$250k/t incl. site, MP Fort Worth >=US$100k/t) sit above the project basket; labour and permitting costs high."),
 "CAN": ("Canada", "five_eyes;g7;msp;oecd;nato", 1.15, "High labour cost, remote sites and cold-climate construction (assumed similar to USA)."),
 "GBR": ("United Kingdom", "five_eyes;g7;msp;oecd;nato", 1.1, "High-cost OECD construction; no rare-earth industrial base beyond metals/alloys."),
 "AUS": ("Australia", "five_eyes;quad;msp;oecd", 1.0, "Reference: Nolans and Eneabba (Australian projects) anchor the mine and separation capex figures."),
 "NZL": ("New Zealand", "five_eyes;oecd", 1.1, "Small market, imported equipment and skills; assumed 10% above reference."),
 "JPN": ("Japan", "g7;quad;msp;oecd", 1.0, "Established magnet and alloy industry; reference cost."),
 "KOR": ("South Korea", "msp;oecd", 0.95, "Established industrial construction sector; slightly below reference."),
 "FRA": ("France", "g7;eu;msp;oecd;nato", 1.05, "EU construction cost; brownfield chemical sites (La Rochelle) available."),
 "DEU": ("Germany", "g7;eu;msp;oecd;nato", 1.1, "High labour and energy cost."),
 "EST": ("Estonia", "eu;msp;oecd;nato", 0.9, "Neo Narva ~EUR50k per t/yr magnet capacity, below US plants; lower EU labour cost."),
 "ITA": ("Italy", "g7;eu;msp;oecd;nato", 1.0, "EU reference cost."),
 "NLD": ("Netherlands", "eu;oecd;nato", 1.05, "EU construction cost; port and chemical-cluster sites."),
 "FIN": ("Finland", "eu;msp;oecd;nato", 1.05, "Nordic construction cost; mining tradition."),
 "SWE": ("Sweden", "eu;msp;oecd;nato", 1.05, "Nordic construction cost; mining tradition (LKAB)."),
 "NOR": ("Norway", "msp;oecd;nato", 1.15, "High Nordic labour cost."),
 "IND": ("India", "quad;msp;brics", 0.65, "Lower construction and labour cost (assumed ~35% below reference)."),
 "VNM": ("Vietnam", "asean;brics_partner", 0.65, "Lower construction and labour cost; existing Japanese-affiliated plants."),
 "MYS": ("Malaysia", "asean;brics_partner", 0.7, "Lower construction cost; Lynas Gebeng brownfield site."),
 "MMR": ("Myanmar", "asean", 1.2, "Civil conflict in Kachin mining areas; little infrastructure; security premium assumed."),
 "LAO": ("Laos", "asean", 0.9, "Low labour cost offset by landlocked logistics."),
 "THA": ("Thailand", "asean;brics_partner", 0.7, "Lower construction cost; established industrial estates."),
 "BRA": ("Brazil", "brics", 0.85, "Mid-income construction cost; established mining sector."),
 "GRL": ("Greenland", "", 1.5, "Arctic site, no road or power infrastructure, short construction season (autonomous territory of Denmark, outside the EU)."),
 "ZAF": ("South Africa", "brics", 0.85, "Established mining sector; power-supply risk."),
 "TZA": ("Tanzania", "", 1.0, "Low labour cost offset by remote sites and imported equipment."),
 "NGA": ("Nigeria", "brics_partner", 1.1, "Artisanal/by-product mining today; security and infrastructure premium."),
 "MDG": ("Madagascar", "", 1.1, "Remote sites and weak infrastructure."),
 "RUS": ("Russia", "brics", 0.8, "Under sanctions; cost factor kept for completeness only."),
 "CHN": ("China", "brics", 0.5, "Chinese plant costs are a fraction of Western ones; kept for completeness (adversary by default, no builds)."),
 "ROW": ("Rest of world", "", 1.0, "Aggregate of every country not listed (other EU members, Mexico, Turkey, Kazakhstan, ...)."),
}
rows = []
for iso, (name, groups, cf, why) in G.items():
    rows.append(dict(iso3=iso, name=name, groups=groups, capex_factor=cf,
        source="ISO 3166-1; memberships: US State Dept MSP partner list (2023) and ERR News (Estonia joins MSP, Mar 2024); NATO, G7, Quad, ASEAN, BRICS official member lists; capex_factor: dataset estimate",
        source_year=2025, reliability="estimate",
        notes=f"capex_factor estimate (reference 1.0 = the Australian/EU project basket of research notes section 5b, range about +-30%): {why}"
              + (" brics_partner = BRICS partner country (2025)." if "brics_partner" in groups else "")))
write("countries", rows)
EU = [c for c, v in G.items() if "eu" in v[1].split(";")]
MSP = [c for c, v in G.items() if "msp" in v[1].split(";")]
FIVE = ["USA", "CAN", "GBR", "AUS", "NZL"]

# ---------------------------------------------------------------- coalitions
co = [
 ("five_eyes", FIVE, "Five Eyes intelligence alliance (UKUSA).", "UKUSA Agreement (Five Eyes) membership", "primary"),
 ("five_eyes_japan", [*FIVE, "JPN"], "Five Eyes plus Japan, the largest non-Chinese magnet producer.", "UKUSA Agreement membership; Japan added by design", "primary"),
 ("quad", ["USA", "JPN", "AUS", "IND"], "Quadrilateral Security Dialogue.", "Quad membership (Quad leaders' statements)", "primary"),
 ("g7", ["USA", "CAN", "GBR", "FRA", "DEU", "ITA", "JPN"], "Group of Seven countries (the EU, a non-enumerated member, is not a country and is left out).", "G7 membership", "primary"),
 ("eu", EU, "European Union member states present in countries.csv (other EU members are inside ROW).", "EU membership", "primary"),
 ("msp", MSP, "Minerals Security Partnership country partners present in countries.csv (the European Commission is a partner but not a country).", "US Department of State MSP partner list (2023: 13 countries + EU) and ERR News, 4 Mar 2024 (Estonia joins)", "primary"),
 ("broad_allied", [*FIVE, "JPN", "KOR", *EU], "Five Eyes plus Japan, South Korea and the EU members present in countries.csv.", "Dataset definition", "primary"),
]
write("coalitions", [dict(name=n, members=m, description=d, source=s, source_year=2024, reliability=r,
                          notes=("Norway is an MSP partner but not in the EU; " if n == "msp" else "")) for n, m, d, s, r in co])

# ---------------------------------------------------------------- stages
st = [
 ("mine", 1, "Rare-earth concentrate or mixed carbonate (t oxide-eq of the material contained)", 800, 20000,
  "transport ESTIMATE (300-1,500): 1 t NdPr-eq in concentrate ~5 t REO ~8-10 t of concentrate at ~80-150 USD/t freight. price ESTIMATE (12,000-28,000): concentrate payable ~35% of separated oxide value (56 USD/kg x 0.35); not sourced."),
 ("separation", 2, "Separated oxide (NdPr oxide; Dy and Tb oxides)", 200, 56000,
  "price: USGS MCS 2025 (Argus) Nd oxide 99.5% annual average 2024 = 56 USD/kg (primary); China domestic NdPr oxide ex-VAT 49 USD/kg Dec 2024 (Lynas). DyTb product is worth far more (Dy oxide 260, Tb oxide 810 USD/kg in 2024) but the table has one price per stage, so ad-valorem tariffs on DyTb flows are understated. transport ESTIMATE (100-400)."),
 ("metal_alloy", 3, "Rare-earth metal and NdFeB alloy (strip-cast flake / powder), in oxide-eq", 200, 60000,
  "price ESTIMATE (55,000-70,000): NdPr metal ~1.25 x oxide price per t metal, /1.17 t oxide-eq per t metal = ~60,000 USD per t oxide-eq. transport ESTIMATE (100-400)."),
 ("magnet", 4, "Sintered (and bonded) NdFeB magnets, counted by their material content (oxide-eq)", 600, 144000,
  "price: average value of China's NdFeB exports 2024 = US$2.86 bn / 58,152 t = 49 USD/kg magnet (Adamas citing China Customs, secondary) / 0.34 t NdPr oxide-eq per t magnet = 144,000 USD per t NdPr-eq. transport ESTIMATE (300-1,000): ~2.9 t magnet per t NdPr-eq x ~200 USD/t."),
]
write("stages", [dict(stage=s, order=o, product=p, max_utilisation=UTIL, ramp_up="0.3;0.7;1",
    transport_usd_per_t=t, price_usd_per_t=pr,
    source="Research notes section 5a (USGS MCS 2025 Argus prices; Adamas 2024) and section 5c (ramp evidence: 30%/70%/100%)",
    source_year=2025, reliability="estimate",
    notes=f"max_utilisation 0.85 for every stage and country (ESTIMATE, 0.8-0.9; the same everywhere so that calibration is on capacity shares). ramp_up 0.3;0.7;1 from research notes 5c (ESTIMATE). {n}")
    for s, o, p, t, pr, n in st])

# ---------------------------------------------------------------- materials
write("materials", [
 dict(material="NdPr", description="Neodymium + praseodymium (light rare earths), the bulk of NdFeB magnet rare-earth content; t NdPr oxide-eq",
      ore_share=0.20, ore_share_low=0.16, ore_share_high=0.26, source=REF + " section 5 (unit care); Arafura (arultd.com) for Nolans 26.4%",
      source_year=2025, reliability="estimate",
      notes="Global average NdPr share of mined TREO, ESTIMATE: Mountain Pass bastnaesite ~0.16, Bayan Obo ~0.20-0.22, Mt Weld ~0.24, Nolans 0.264. Production-weighted over capacity.csv mine rows = 78,130 t / 393,950 t REO = 0.198."),
 dict(material="DyTb", description="Dysprosium + terbium (heavy rare earths) used for coercivity in high-temperature NdFeB grades; t DyTb oxide-eq",
      ore_share=0.0085, ore_share_low=0.005, ore_share_high=0.012, source=REF + " (ESTIMATE; USGS MCS 2025 production weights)",
      source_year=2025, reliability="estimate",
      notes="Global average DyTb share of mined TREO, ESTIMATE: ~0.2-0.5% in bastnaesite/Bayan Obo, ~0.5-1% in monazite, ~4% in southern-China/Myanmar/Laos ionic clays. Production-weighted over capacity.csv mine rows = 3,350 t / 393,950 t REO = 0.0085. Used by the model only to turn reserves into a new-mine limit; hard-rock new mines would be nearer 0.005."),
])

# ---------------------------------------------------------------- yields
yl = [("separation", "NdPr", 0.95, 0.85, 0.98, "Recovery of NdPr from concentrate/MREC to separated oxide (cracking, leaching, SX)."),
      ("separation", "DyTb", 0.90, 0.80, 0.95, "Heavy RE recovery lower: more SX stages, small volumes."),
      ("metal_alloy", "NdPr", 0.97, 0.95, 0.99, "Oxide/fluoride to metal (electrolysis) and alloy casting recovery."),
      ("metal_alloy", "DyTb", 0.95, 0.90, 0.98, "Calciothermic/electrolytic Dy, Tb metal recovery."),
      ("magnet", "NdPr", 0.92, 0.75, 0.98, "Alloy to finished magnet; 20-30% of alloy becomes swarf/scrap, most recycled in-house (low = no swarf recycling)."),
      ("magnet", "DyTb", 0.92, 0.75, 0.98, "As NdPr; grain-boundary diffusion uses Dy/Tb efficiently.")]
write("yields", [dict(stage=s, material=m, yield_t_per_t=v, low=lo, high=hi,
                      source="Dataset estimate (industry rules of thumb; no sourced plant recoveries in the research notes)",
                      source_year=2025, reliability="estimate", notes="ESTIMATE. " + n) for s, m, v, lo, hi, n in yl])

# ---------------------------------------------------------------- capacity
cap = []
def addcap(country, stage, material, value, lo, hi, source, sy, rel, notes):
    cap.append(dict(country=country, stage=stage, material=material, capacity_t_per_yr=value, unit="t/yr",
                    year=2024, low=lo, high=hi, source=source, source_year=sy, reliability=rel, notes=notes))

def r0(x): return float(round(x))
def r1(x): return float(round(x, 1))

# mine: USGS 2024 production, t REO; country shares
MINE = [  # iso, t REO 2024, ndpr share (lo, hi), dytb share (lo, hi), note
 ("CHN", 270000, (0.20, 0.18, 0.23), (0.006, 0.004, 0.009), "Quota figure, excludes undocumented output (USGS fn 14). NdPr: Bayan Obo + Sichuan bastnaesite ~0.20-0.22, southern clays vary. DyTb: ~251 kt light ore at ~0.3% + ~19 kt ionic-clay quota at ~5% = ~0.6% of TREO"),
 ("USA", 45000, (0.16, 0.14, 0.17), (0.002, 0.001, 0.003), "Mountain Pass bastnaesite (MP reports 45,455 t REO in concentrate, FY2024). NdPr share 0.16 (research notes ESTIMATE); bastnaesite is very poor in Dy/Tb"),
 ("MMR", 31000, (0.22, 0.15, 0.28), (0.04, 0.02, 0.06), "Ionic-adsorption clays (Kachin), estimated by USGS from China's imports (fn 12); medium-heavy clays: NdPr ~0.22 (ESTIMATE, 0.15-0.28), DyTb ~4% of TREO (ESTIMATE)"),
 ("AUS", 13000, (0.24, 0.22, 0.26), (0.005, 0.003, 0.008), "Mt Weld (Lynas) carbonatite/monazite; NdPr ~0.24 (Mt Weld ~0.23-0.25, Nolans 0.264); DyTb ~0.5% (hard rock)"),
 ("NGA", 13000, (0.20, 0.16, 0.24), (0.01, 0.005, 0.02), "Monazite/xenotime by-product of tin-columbite mining, estimated by USGS from China's imports (fn 12)"),
 ("THA", 13000, (0.20, 0.16, 0.24), (0.01, 0.005, 0.03), "Estimated by USGS from China's imports (fn 12); ore type uncertain, heavy share wide"),
 ("IND", 2900, (0.20, 0.18, 0.24), (0.007, 0.004, 0.01), "Beach-sand monazite (IREL)"),
 ("RUS", 2500, (0.20, 0.18, 0.22), (0.002, 0.001, 0.004), "Loparite (Lovozero); light-RE ore"),
 ("MDG", 2000, (0.20, 0.18, 0.24), (0.005, 0.003, 0.01), "Monazite by-product of mineral sands; USGS fn 12"),
 ("VNM", 300, (0.20, 0.16, 0.24), (0.005, 0.003, 0.01), "Small output (Yen Phu / Dong Pao bastnaesite-type)"),
 ("MYS", 130, (0.20, 0.16, 0.24), (0.02, 0.01, 0.04), "Monazite/xenotime from tin tailings (amang); xenotime raises the heavy share"),
 ("BRA", 20, (0.20, 0.16, 0.24), (0.007, 0.004, 0.02), "Small output (monazite)"),
 ("LAO", 700, (0.20, 0.15, 0.25), (0.04, 0.02, 0.06), "Ionic clays feeding China. Not listed by USGS (inside 'Other' 1,100 t): ESTIMATE 700 t REO (300-1,100) taken out of 'Other' as the research notes suggest"),
 ("ROW", 400, (0.20, 0.16, 0.24), (0.01, 0.005, 0.02), "USGS 'Other' 1,100 t REO minus the 700 t assigned to Laos (ESTIMATE; 0-800 t REO)"),
]
LAO_RANGE = {"LAO": (300, 1100), "ROW": (0, 800)}
mine_ndpr_total = 0
mine_dytb_total = 0
for iso, reo, (s, slo, shi), (d, dlo, dhi), note in MINE:
    rlo, rhi = LAO_RANGE.get(iso, (reo, reo))
    v = reo * s / UTIL
    mine_ndpr_total += reo * s
    mine_dytb_total += reo * d
    addcap(iso, "mine", "NdPr", r0(v), r0(rlo * slo / UTIL), r0(rhi * shi / UTIL), USGS, 2025, "estimate",
           f"{reo:,} t REO (2024e production) x {s} t NdPr oxide per t REO / 0.85 utilisation = {v:,.0f} t/yr. Range from NdPr share {slo}-{shi}. {note}.")
    v = reo * d / UTIL
    addcap(iso, "mine", "DyTb", r1(v), r1(rlo * dlo / UTIL), r1(rhi * dhi / UTIL), USGS, 2025, "estimate",
           f"{reo:,} t REO (2024e production) x {d} t DyTb oxide per t REO / 0.85 utilisation = {v:,.1f} t/yr. Range from DyTb share {dlo}-{dhi}. {note}.")

# separation NdPr ex-China
SEP_N = [
 ("MYS", 6650, 5655, 7200, "Lynas FY25 results via middle.news (27 Aug 2025) and Rare Earth Exchanges (23 Sep 2025)", 2025, "secondary",
  "Lynas Gebeng SX plant: FY24 group NdPr production 5,655 t / 0.85 = 6,650 t/yr (pre-upgrade nameplate ~7,200 t/yr). The 2025 upgrade to 10,500 t/yr is in projects.csv (+3,850). Feed: Mt Weld concentrate cracked at Kalgoorlie (AU) since 2024."),
 ("USA", 2447, 2144, 3000, "MP Materials FY2024 results (via reportify.ai); Energy Fuels release (via metalswire, investmets)", 2025, "secondary",
  "Sum of two plants: MP Mountain Pass separated NdPr oxide 1,294 t in 2024 / 0.85 = 1,522 t/yr (ramping; nameplate ~6,000 t/yr ESTIMATE, the rest in projects.csv) + Energy Fuels White Mesa Phase 1, 850-1,000 t/yr NdPr nameplate, commercial since Q2 2024 (central 925)."),
 ("EST", 750, 500, 1000, "Argus, quoting Neo Performance Materials CEO (2023)", 2023, "estimate",
  "Neo Silmet (Sillamae) light-RE separation 3,000 t/yr REO x ~0.25 NdPr share of its feed (ESTIMATE 0.17-0.33) = 750 t/yr NdPr."),
 ("IND", 600, 300, 1000, REF + " section 2b (IREL: not found)", 2025, "estimate",
  "IREL monazite processing, ESTIMATE a few thousand t/yr REO: ~3,000 t REO x 0.20 NdPr = 600 t/yr (300-1,000)."),
 ("VNM", 200, 50, 500, REF + " section 2b (Vietnam: pilot or small scale)", 2025, "estimate",
  "ESTIMATE: pilot/small-scale separation (VTRE and Japanese-affiliated plants), 50-500 t/yr NdPr."),
 ("RUS", 150, 0, 400, "Dataset estimate (not in research notes)", 2025, "estimate",
  "ESTIMATE: Solikamsk processes Lovozero loparite (2,500 t REO/yr); limited in-country NdPr separation, 0-400 t/yr."),
]
ex = sum(v for _, v, *_ in SEP_N)
chn_sep = round(ex * 0.91 / 0.09, -2)
for iso, v, lo, hi, src, sy, rel, n in SEP_N:
    addcap(iso, "separation", "NdPr", float(v), float(lo), float(hi), src, sy, rel, n)
addcap("CHN", "separation", "NdPr", float(chn_sep), 87000.0, 120000.0,
       "IEA commentary 23 Oct 2025 via Rare Earth Exchanges (China 91% of separation 2024); IEA GCMO 2024 via seaisi.org (92% of refined output 2023); China 2024 smelting/separation quota 254,000 t REO (mexicobusiness.news citing Mining.com)",
       2025, "estimate",
       f"Set from the IEA share: ex-China NdPr separation capacity in this table {ex:,} t/yr x 0.91/0.09 = {chn_sep:,.0f} t/yr (~{chn_sep/0.2:,.0f} t REO/yr at 0.20 NdPr). Low 87,000 = throughput basis (quota 254 kt REO + ~100 kt REO of imported feed from USA, Myanmar, Laos, Nigeria, Thailand, Madagascar, x 0.2 / 0.85); high 120,000 = reported Chinese over-capacity.")

# separation DyTb
chn_sep_d = 3750.0
addcap("CHN", "separation", "DyTb", chn_sep_d, 3300.0, 4500.0,
       "IEA commentary 23 Oct 2025 via Rare Earth Exchanges; Lynas FY25 (first separated Dy/Tb outside China in 2025)", 2025, "estimate",
       "Throughput basis: Chinese DyTb mine output (1,620 t) + Myanmar (1,240 t) + Laos and other imported heavy feed (~330 t) = ~3,190 t / 0.85 = 3,750 t/yr. China held ~99% of heavy-RE separation before Lynas Malaysia's first Dy/Tb in 2025.")
addcap("IND", "separation", "DyTb", 20.0, 0.0, 50.0, REF + " section 2b (IREL: not found)", 2025, "estimate",
       "ESTIMATE: small heavy-RE fraction recovered from IREL monazite processing, 0-50 t/yr.")
addcap("ROW", "separation", "DyTb", 15.0, 0.0, 40.0, "Dataset estimate", 2025, "estimate",
       "ESTIMATE: pilot/research-scale heavy separation outside China before Lynas's 2025 commercial Dy/Tb (0-40 t/yr).")

# magnets (t NdFeB capacity) and metal/alloy
MAG = [  # iso, t NdFeB, lo, hi, source, sy, rel, note
 ("JPN", 17000, 12000, 20000, REF + " section 3a (Japan ESTIMATE 10,000-15,000 t/yr production; China 2018 output / 10)", 2025, "estimate",
  "Shin-Etsu, Proterial, TDK and others. Production ~14,500 t NdFeB / 0.85 = ~17,000 t/yr capacity (ESTIMATE)."),
 ("VNM", 2200, 1500, 3000, "couragemagnet.com industry blog (Shin-Etsu plants, end-2022)", 2022, "estimate",
  "Shin-Etsu Vietnam 2,200 t/yr NdFeB (weak source)."),
 ("DEU", 1500, 1000, 2000, "Fastmarkets 2023 (VAC does not disclose capacity); research notes ESTIMATE", 2025, "estimate",
  "VAC Hanau sintered NdFeB, ESTIMATE 1,000-2,000 t/yr."),
 ("USA", 2000, 1000, 2500, "Rare Earth Exchanges, Dec 2025 (Noveon commercial since 2023); couragemagnet (Urban Mining Co 2,000 t/yr)", 2025, "estimate",
  "Noveon Magnetics, San Marcos TX (recycled feed), ESTIMATE ~2,000 t/yr NdFeB. Already operating in 2023, so not repeated in projects.csv. MP Fort Worth, eVAC and USAR start after 2024 (projects.csv)."),
 ("KOR", 1500, 800, 3000, "Dataset estimate (research notes: Korea not found)", 2025, "estimate",
  "ESTIMATE: Korean sintered NdFeB makers (e.g. Star Group), 800-3,000 t/yr."),
 ("ROW", 1000, 500, 2000, "Dataset estimate", 2025, "estimate",
  "ESTIMATE: other ex-China magnet makers (e.g. Slovenia, Philippines), 500-2,000 t/yr."),
]
ex_mag = sum(m[1] for m in MAG)
chn_mag = 317600
for iso, t, lo, hi, src, sy, rel, n in MAG:
    addcap(iso, "magnet", "NdPr", r0(t * NDPR_PER_MAG), r0(lo * NDPR_PER_MAG_LO), r0(hi * NDPR_PER_MAG_HI), src, sy, rel,
           f"{t:,} t NdFeB x 0.34 t NdPr oxide-eq per t magnet = {t*NDPR_PER_MAG:,.0f} t/yr (range {lo:,}-{hi:,} t x 0.32-0.36). {n}")
    addcap(iso, "magnet", "DyTb", r1(t * DYTB_PER_MAG), r1(lo * DYTB_PER_MAG_LO), r1(hi * DYTB_PER_MAG_HI), src, sy, rel,
           f"{t:,} t NdFeB x 0.012 t DyTb oxide-eq per t magnet = {t*DYTB_PER_MAG:,.1f} t/yr (range {lo:,}-{hi:,} t x 0.008-0.02). {n}")
CHN_MAG_SRC = "MIIT / China Rare Earth Industry Association via horizonmagnets (2021: 207,100 t sintered + 9,400 t bonded); IEA commentary Oct 2025 (94%); US DOE via Fastmarkets (~90%); Section 232 NdFeB report 2022 (~92%)"
CHN_MAG_NOTE = ("China NdFeB production 2024 ESTIMATE ~270,000 t (2021 MIIT 216,500 t sintered+bonded grown ~8%/yr) / 0.85 = 317,600 t/yr capacity. "
                f"Ex-China capacity in this table {ex_mag:,} t, so China holds {chn_mag/(chn_mag+ex_mag):.1%} of capacity (IEA 94%, S232 ~92%, DOE ~90%). ")
addcap("CHN", "magnet", "NdPr", r0(chn_mag * NDPR_PER_MAG), r0(290000 * NDPR_PER_MAG_LO), r0(345000 * NDPR_PER_MAG_HI), CHN_MAG_SRC, 2025, "estimate",
       CHN_MAG_NOTE + "317,600 t NdFeB x 0.34 t NdPr oxide-eq per t = 107,984 t/yr (range 290,000-345,000 t x 0.32-0.36).")
addcap("CHN", "magnet", "DyTb", r1(chn_mag * DYTB_PER_MAG), r1(290000 * DYTB_PER_MAG_LO), r1(345000 * DYTB_PER_MAG_HI), CHN_MAG_SRC, 2025, "estimate",
       CHN_MAG_NOTE + "317,600 t NdFeB x 0.012 t DyTb oxide-eq per t = 3,811 t/yr (range 290,000-345,000 t x 0.008-0.02).")

# metal/alloy: research-notes rule = metal/alloy capacity tracks magnet capacity, plus metal-only plants
MA_RULE = "Research notes section 3 ESTIMATE: metal/alloy capacity of each magnet maker equals its magnet capacity unless it buys alloy in."
MET = [  # iso, ndpr, lo, hi, dytb, dlo, dhi, source, note
 ("CHN", r0(chn_mag * NDPR_PER_MAG), 85000, 124000, r1(chn_mag * DYTB_PER_MAG), 2500, 6900, "Section 232 NdFeB report 2022 via Mayer Brown (China ~92% of NdFeB magnets and magnet alloy, 2020); " + REF + " section 3",
  "Set equal to China's magnet capacity (317,600 t NdFeB x 0.34 NdPr / x 0.012 DyTb). " + MA_RULE),
 ("JPN", 5780, 3000, 6500, 204, 100, 340, REF + " section 3 (metal/alloy ESTIMATE)",
  "Japan 17,000 t NdFeB x 0.34 = 5,780 t/yr NdPr-eq (DyTb x 0.012 = 204). " + MA_RULE + " Low end: Japanese makers cast alloy but import much of their NdPr/Dy metal from China and Vietnam."),
 ("VNM", 1900, 1000, 3000, 46, 20, 80, REF + " section 3 (Japan and Vietnam hold most ex-China metal/alloy)",
  "ESTIMATE: Shin-Etsu Vietnam alloy for 2,200 t NdFeB x 0.34 = 748 + Japanese-affiliated metal plants ~1,000 t NdPr metal x 1.17 = 1,170; total ~1,900 t/yr NdPr-eq. DyTb: 2,200 x 0.012 = 26 + ~20 t Dy metal."),
 ("DEU", 510, 340, 680, 18, 8, 40, REF + " section 3", "VAC Hanau in-house alloy for 1,500 t NdFeB x 0.34 (DyTb x 0.012). " + MA_RULE),
 ("USA", 680, 340, 850, 24, 8, 50, REF + " section 3",
  "Noveon (recycled magnet feed to alloy powder) for 2,000 t NdFeB x 0.34 (DyTb x 0.012). No US NdPr metal production in 2024 (MP Fort Worth metal from 2025, projects.csv). " + MA_RULE),
 ("KOR", 510, 170, 1000, 18, 6, 60, "Dataset estimate", "Korean magnet makers' alloy for 1,500 t NdFeB x 0.34 (DyTb x 0.012). " + MA_RULE),
 ("GBR", 350, 120, 700, 10, 0, 30, "Dataset estimate (not in research notes): Less Common Metals, Ellesmere Port",
  "ESTIMATE: Less Common Metals (NdPr metal, NdFeB and DyFe alloys), ~300 t NdPr metal x 1.17 = 350 t/yr NdPr-eq (100-600 t metal); DyTb ~10 t."),
 ("THA", 900, 300, 1500, 5, 0, 20, "Dataset estimate (not in research notes): Neo Magnequench, Korat",
  "ESTIMATE: Neo Magnequench Korat melt-spun NdFeB powder for bonded magnets, ~3,000 t powder x ~0.26 t NdPr metal x 1.17 = ~900 t/yr NdPr-eq; capacity undisclosed."),
 ("ROW", 340, 170, 680, 12, 4, 40, "Dataset estimate", "Other ex-China magnet makers' alloy for 1,000 t NdFeB x 0.34 (DyTb x 0.012). " + MA_RULE),
]
for iso, v, lo, hi, d, dlo, dhi, src, n in MET:
    addcap(iso, "metal_alloy", "NdPr", float(v), float(lo), float(hi), src, 2025, "estimate", n)
    addcap(iso, "metal_alloy", "DyTb", float(d), float(dlo), float(dhi), src, 2025, "estimate", n)
write("capacity", cap)

# ---------------------------------------------------------------- projects
pj = []
def addpj(project, country, stage, material, v, online, status, lo, hi, source, sy, rel, notes):
    pj.append(dict(project=project, country=country, stage=stage, material=material, capacity_t_per_yr=v, unit="t/yr",
                   online_year=online, status=status, low=lo, high=hi, source=source, source_year=sy, reliability=rel, notes=notes))

def magnet_project(project, country, t, online, status, source, sy, rel, note, t_lo=None, t_hi=None, alloy=True):
    t_lo = t if t_lo is None else t_lo
    t_hi = t if t_hi is None else t_hi
    stages = ["metal_alloy", "magnet"] if alloy else ["magnet"]
    for stg in stages:
        extra = "" if stg == "magnet" else " Metal/alloy row: research notes section 3 rule (alloy capacity = magnet capacity unless alloy is bought in)."
        addpj(project, country, stg, "NdPr", r0(t * NDPR_PER_MAG), online, status, r0(t_lo * NDPR_PER_MAG_LO), r0(t_hi * NDPR_PER_MAG_HI), source, sy, rel,
              f"{t:,} t/yr NdFeB x 0.34 t NdPr oxide-eq per t magnet = {t*NDPR_PER_MAG:,.0f} t/yr. {note}{extra}")
        addpj(project, country, stg, "DyTb", r1(t * DYTB_PER_MAG), online, status, r1(t_lo * DYTB_PER_MAG_LO), r1(t_hi * DYTB_PER_MAG_HI), source, sy, rel,
              f"{t:,} t/yr NdFeB x 0.012 t DyTb oxide-eq per t magnet = {t*DYTB_PER_MAG:,.1f} t/yr. {note}{extra}")

LYN = "Lynas FY25 results via middle.news (27 Aug 2025) and Rare Earth Exchanges (23 Sep 2025)"
addpj("Lynas Malaysia (Gebeng) NdPr upgrade to 10,500 t/yr", "MYS", "separation", "NdPr", 3850.0, 2025, "operating_ramp", 3300.0, 4845.0, LYN, 2025, "secondary",
      "Nameplate 10,500 t/yr NdPr after the 2025 upgrade minus 6,650 t/yr already in capacity.csv = 3,850 (low 10,500-7,200, high 10,500-5,655). FY25 output 6,558 t.")
addpj("Lynas Malaysia (Gebeng) heavy RE separation", "MYS", "separation", "DyTb", 120.0, 2025, "operating_ramp", 50.0, 250.0, LYN, 2025, "estimate",
      "First separated Dy and Tb oxide outside China (2025). Capacity not in the research notes: ESTIMATE ~24,000 t REO/yr Mt Weld feed x ~0.5% DyTb = ~120 t/yr.")
addpj("Lynas Kalgoorlie cracking and leaching (MREC)", "AUS", "separation", "NdPr", 0.0, 2024, "operating_ramp", None, None,
      "Rare Earth Exchanges Sep 2025; oilandinvest (about 9,000 t/yr NdPr-eq MREC nameplate, first production Jun 2024)", 2025, "secondary",
      "Kept for traceability with 0 t/yr: Kalgoorlie cracks Mt Weld concentrate into mixed RE carbonate (~9,000 t/yr NdPr-eq) that is separated at Gebeng (MYS) and later Seadrift (USA). The model has no cracking stage; counting it as separation would double-count Lynas's SX capacity.")
addpj("Lynas Mt Weld mine and concentrator expansion", "AUS", "mine", "NdPr", 9000.0, 2025, "operating_ramp", 7000.0, 10000.0,
      "australianmining.com.au (Mt Weld expansion supports 12,000 t/yr NdPr finished product)", 2025, "estimate",
      "12,000 t/yr NdPr product / 0.95 separation yield = 12,630 t/yr NdPr in concentrate, minus 3,671 t/yr AUS mine capacity already in capacity.csv = ~9,000 t/yr.")
addpj("Lynas Mt Weld mine and concentrator expansion", "AUS", "mine", "DyTb", 190.0, 2025, "operating_ramp", 100.0, 300.0,
      "australianmining.com.au (Mt Weld expansion supports 12,000 t/yr NdPr finished product)", 2025, "estimate",
      "9,000 t/yr NdPr x (0.005 DyTb / 0.24 NdPr share of Mt Weld TREO) = ~190 t/yr DyTb.")
addpj("Lynas Texas (Seadrift) light RE plant", "USA", "separation", "NdPr", 1250.0, 2028, "announced", 0.0, 1250.0,
      "C&EN 2021 (1,250 t/yr NdPr planned); DoD DPA award ~US$30.4 M (kallanish)", 2021, "estimate",
      "1,250 t/yr NdPr as planned. Online year ESTIMATE (2027-2030): site moved from Hondo to Seadrift and the heavy-RE plant slipped from FY2025 to FY2026; low 0 reflects the risk that it is not built. Feed: Kalgoorlie MREC (lanes.csv AUS->USA).")
addpj("Lynas Texas (Seadrift) heavy RE plant", "USA", "separation", "DyTb", 100.0, 2028, "announced", 0.0, 200.0,
      "magneticsmag (DoD contribution ~US$258 M, Jul 2023); mqworld (FY2026 target)", 2023, "estimate",
      "Capacity not disclosed: ESTIMATE ~100 t/yr Dy+Tb (0-200). Targeted FY2026, assumed 2028 after slippage.")
addpj("MP Materials Mountain Pass separation ramp to nameplate", "USA", "separation", "NdPr", 4500.0, 2026, "operating_ramp", 3000.0, 4700.0,
      REF + " section 2b (MP separation nameplate ~6,000 t/yr NdPr oxide, ESTIMATE); MP FY2024 results", 2025, "estimate",
      "Nameplate ~6,000 t/yr NdPr oxide (ESTIMATE, Stage II design rate) minus 1,522 t/yr already in capacity.csv (2024 output 1,294 t / 0.85) = ~4,500 t/yr.")
addpj("MP Materials Mountain Pass heavy RE separation", "USA", "separation", "DyTb", 100.0, 2026, "committed", 40.0, 200.0,
      "MP/DoD release Jul 2025 (US$150 M DoD loan for heavy-RE separation) via metaltechnews; DoD US$35 M award Feb 2022 (industrialheating)", 2025, "estimate",
      "Capacity not in the research notes: ESTIMATE ~100 t/yr Dy+Tb (Mountain Pass feed 45,000 t REO x ~0.2% DyTb = 90 t, plus third-party feed). Online year assumed 2026.")
MPFW = "MP Materials releases via marketscreener, industrialheating, fortworthinc, mining.com (Independence, Fort Worth: ~1,000 t/yr NdFeB)"
magnet_project("MP Materials Independence, Fort Worth TX", "USA", 1000, 2025, "operating_ramp", MPFW, 2025, "secondary",
               "Commercial NdPr metal and trial magnets Jan 2025; ramp from late 2025. Integrated metal, alloy and magnets.")
magnet_project("MP Materials 10X magnet facility", "USA", 9000, 2028, "committed",
               "MP Materials / DoD release 10 Jul 2025 via defence-industry.eu and metaltechnews", 2025, "secondary",
               "Takes MP to ~10,000 t/yr NdFeB total (10,000 - 1,000 at Fort Worth = 9,000 t). Commissioning 2028; US$1.0 bn JPMorgan/Goldman commitment; DoD 100% offtake for 10 years; site TBD.")
ILU = "Iluka via laprivate.com.au and marinecare; miningmagazine.com.au; aumanufacturing"
addpj("Iluka Eneabba refinery", "AUS", "separation", "NdPr", 5500.0, 2027, "under_construction", 4000.0, 5500.0, ILU, 2025, "secondary",
      "Up to 5,500 t/yr NdPr oxide; completion 2027; A$1.65 bn government loan.")
addpj("Iluka Eneabba refinery", "AUS", "separation", "DyTb", 750.0, 2027, "under_construction", 400.0, 750.0, ILU, 2025, "secondary",
      "Up to 750 t/yr Dy+Tb oxide; completion 2027.")
addpj("Iluka Eneabba feed (monazite/xenotime stockpile and mineral-sands monazite)", "AUS", "mine", "NdPr", 5800.0, 2027, "under_construction", 4200.0, 6000.0, ILU, 2025, "estimate",
      "Feed for Eneabba: 5,500 t/yr NdPr / 0.95 separation yield = ~5,800 t/yr NdPr in concentrate. Already-mined stockpile plus Iluka mineral-sands monazite; not in USGS 2024 production. The stockpile is finite (not modelled).")
addpj("Iluka Eneabba feed (monazite/xenotime stockpile and mineral-sands monazite)", "AUS", "mine", "DyTb", 830.0, 2027, "under_construction", 440.0, 830.0, ILU, 2025, "estimate",
      "750 t/yr DyTb / 0.90 separation yield = ~830 t/yr DyTb in feed (xenotime-rich stockpile).")
ARU = "Arafura 2022 update via nsenergybusiness; miningweekly (Nolans: 4,440 t/yr NdPr oxide, 13,343 t TREO-eq)"
addpj("Arafura Nolans (mine and concentrator)", "AUS", "mine", "NdPr", 4670.0, 2029, "announced", 4440.0, 5000.0, ARU, 2022, "estimate",
      "4,440 t/yr NdPr oxide / 0.95 separation yield = 4,670 t/yr NdPr in concentrate. Online year ESTIMATE (final investment decision pending; ~3 years construction).")
addpj("Arafura Nolans (mine and concentrator)", "AUS", "mine", "DyTb", 60.0, 2029, "announced", 30.0, 100.0, ARU, 2022, "estimate",
      "13,343 t/yr TREO-eq x ~0.45% DyTb (ESTIMATE) = ~60 t/yr; Nolans sells its heavies as a mixed concentrate, so separation is elsewhere.")
addpj("Arafura Nolans (separation)", "AUS", "separation", "NdPr", 4440.0, 2029, "announced", 4000.0, 4440.0, ARU, 2022, "secondary",
      "Integrated on-site separation, 4,440 t/yr NdPr oxide. Online year ESTIMATE (FID pending).")
EF = "metalnomist, Aug 2024 (Energy Fuels White Mesa Phase 2 plan)"
addpj("Energy Fuels White Mesa Phase 2", "USA", "separation", "NdPr", 5000.0, 2028, "announced", 4000.0, 6000.0, EF, 2024, "estimate",
      "Planned 4,000-6,000 t/yr NdPr (central 5,000). Online year ESTIMATE (2027-2030). Phase 1 (850-1,000 t/yr, 2024) is in capacity.csv.")
addpj("Energy Fuels White Mesa Phase 2", "USA", "separation", "DyTb", 250.0, 2028, "announced", 200.0, 300.0, EF, 2024, "estimate",
      "Planned 150-225 t/yr Dy + 50-75 t/yr Tb = 200-300 t/yr DyTb (central 250). Online year ESTIMATE.")
SOL = "Solvay release via automotiveworld (line opened 8 Apr 2025); 24brussels citing De Tijd; specchemonline"
addpj("Solvay La Rochelle magnet RE line (phase 1)", "FRA", "separation", "NdPr", 400.0, 2025, "operating_ramp", 200.0, 800.0, SOL, 2025, "estimate",
      "'Several hundred' t in 2025: ESTIMATE 400 t/yr NdPr (200-800).")
addpj("Solvay La Rochelle expansion to ~4,500 t/yr magnet REO", "FRA", "separation", "NdPr", 3900.0, 2030, "announced", 1300.0, 4300.0, SOL, 2025, "estimate",
      "Target ~4,500 t/yr magnet REO by 2030 (30% of EU demand; physical capacity 2,000-5,000 t REO; ~EUR100 M). Assumed ~95% NdPr = 4,300 minus 400 in phase 1 = 3,900.")
addpj("Solvay La Rochelle expansion to ~4,500 t/yr magnet REO", "FRA", "separation", "DyTb", 200.0, 2030, "announced", 100.0, 400.0, SOL, 2025, "estimate",
      "~5% of the 4,500 t/yr magnet REO target assumed Dy/Tb (ESTIMATE).")
NARVA = "fdiintelligence; global-recycling; Argus; automotiveworld; miningsee (Neo Magnequench Narva)"
magnet_project("Neo Magnequench Narva magnet plant (phase 1)", "EST", 2000, 2026, "operating_ramp", NARVA, 2025, "secondary",
               "Phase 1 2,000 t/yr sintered; inaugurated Sep 2025, commercial ramp 2026; EUR100 M incl. EUR18.75 M EU Just Transition Fund.")
magnet_project("Neo Magnequench Narva magnet plant (phase 2)", "EST", 3000, 2029, "announced", NARVA, 2025, "estimate",
               "Phase 2 takes Narva to 5,000 t/yr (+3,000 t; total ~EUR250 M). Online year ESTIMATE.", t_lo=0)
magnet_project("eVAC Magnetics, Sumter SC", "USA", 2000, 2026, "operating_ramp",
               "defense.gov release (DoD US$94.1 M, Sep 2023); theitem.com; projectblue; Rare Earth Exchanges Dec 2025", 2025, "secondary",
               "~2,000 t/yr by 2026 (VAC does not disclose capacity); first commercial shipment Dec 2025; >US$500 M.", t_lo=1500)
USAR = "Mining.com via minelistings; metalnomist Aug 2025 (USA Rare Earth Stillwater)"
magnet_project("USA Rare Earth, Stillwater OK (phase 1)", "USA", 1200, 2026, "under_construction", USAR, 2025, "secondary",
               "1,200 t/yr initial line; commercial operation H1 2026.")
magnet_project("USA Rare Earth, Stillwater OK (expansion to 4,800 t/yr)", "USA", 3600, 2028, "announced", USAR, 2025, "estimate",
               "4,800 t/yr nameplate minus 1,200 t phase 1 = 3,600 t. Online year ESTIMATE.", t_lo=0)
magnet_project("Lynas / JS Link Malaysia magnet plant", "MYS", 3000, 2028, "announced", "middle.news (Lynas-JS Link non-binding MoU, Aug 2025)", 2025, "estimate",
               "3,000 t/yr NdFeB under a non-binding MoU (Aug 2025). Online year ESTIMATE.", t_lo=0)
SRC = REF + " section 2b (Saskatchewan Research Council: not found; ESTIMATE demonstration scale)"
addpj("Saskatchewan Research Council Rare Earth Processing Facility", "CAN", "separation", "NdPr", 400.0, 2025, "operating_ramp", 100.0, 600.0, SRC, 2025, "estimate",
      "ESTIMATE: demonstration-scale monazite processing and separation, hundreds of t/yr NdPr.")
addpj("Saskatchewan Research Council Rare Earth Processing Facility", "CAN", "metal_alloy", "NdPr", 350.0, 2025, "operating_ramp", 120.0, 585.0, SRC, 2025, "estimate",
      "ESTIMATE: ~300 t/yr NdPr metal (100-500) x 1.17 t oxide-eq per t metal = 350 t/yr.")
write("projects", pj)

# ---------------------------------------------------------------- capex / opex
CX = REF + " section 5b (derived from Nolans, Eneabba, White Mesa, Narva, Fort Worth, eVAC and USAR project totals)"
capex = [
 ("mine", "NdPr", 150000, 70000, 300000,
  "Section 5b default US$40k per t REO/yr (25-60k) / 0.20 t NdPr per t REO x 0.75 (NdPr's share of the mined basket's value at 2024 prices: 0.20 x 56 USD/kg = 11.2 of ~15 USD/kg REO) = US$150k per t NdPr-eq/yr. Joint mine cost is split by value so that building both streams costs about one mine. Low: Nolans mine-only (30-40% of US$230k per t NdPr integrated) ~US$70-90k; high: US$60k per t REO charged wholly to NdPr (/0.20)."),
 ("mine", "DyTb", 950000, 400000, 3000000,
  "US$40k per t REO/yr x 0.20 (DyTb's share of basket value: 0.0085 x ~370 USD/kg blended Dy/Tb oxide = ~3.1 USD/kg REO) / 0.0085 t DyTb per t REO = ~US$950k per t DyTb-eq/yr. Per tonne far higher than NdPr because DyTb is <1% of hard-rock ore; low = heavy-rich ionic clays (~4% DyTb, cheap in-situ leaching), high = poor hard rock (0.3-0.5%)."),
 ("separation", "NdPr", 180000, 20000, 300000,
  "Section 5b default US$180k per t NdPr/yr (20-300k): Iluka Eneabba A$1.7-1.8 bn for 5,500 t NdPr + 750 t DyTb (~US$180k per t magnet REO); Nolans; White Mesa Phase 1 brownfield retrofit ~US$17k at the low end."),
 ("separation", "DyTb", 1000000, 500000, 3000000,
  "ESTIMATE: Eneabba US$1.14 bn (A$1.75 bn x 0.65) split by product value (750 t DyTb at ~370 USD/kg = ~47%) = ~US$710k per t DyTb/yr; Lynas Texas heavy plant DoD ~US$258 M for an undisclosed (~100 t) capacity = ~US$2.6 M per t. Central US$1.0 M."),
 ("metal_alloy", "NdPr", 30000, 17000, 43000,
  "Section 5b ESTIMATE US$35k (20-50k) per t/yr of metal/alloy / 1.17 t oxide-eq per t metal = US$30k (17-43k) per t NdPr oxide-eq/yr. No direct source."),
 ("metal_alloy", "DyTb", 100000, 50000, 200000,
  "ESTIMATE: small-batch Dy/Tb metal reduction ~3x the NdPr cost per t; no source."),
 ("magnet", "NdPr", 240000, 110000, 630000,
  "Section 5b default US$100k per t NdFeB/yr (50-250k: Narva ~US$54k, Fort Worth >=US$100k, eVAC ~US$250k, USAR ~US$21k) x 0.81 (NdPr's share of magnet rare-earth value: 0.34 x 56 vs 0.012 x 370 USD/kg) / 0.34 t NdPr oxide-eq per t magnet = US$240k per t NdPr-eq/yr (low 50k x 0.81/0.36, high 250k x 0.81/0.32)."),
 ("magnet", "DyTb", 1600000, 480000, 6000000,
  "US$100k per t NdFeB/yr x 0.19 (DyTb's value share) / 0.012 t DyTb oxide-eq per t magnet = ~US$1.6 M per t DyTb-eq/yr (low 50k x 0.19/0.02, high 250k x 0.19/0.008). Joint magnet-plant cost split by value between the two streams."),
]
write("capex", [dict(stage=s, material=m, capex_usd_per_t_yr=float(v), low=float(lo), high=float(hi), source=CX, source_year=2025,
                     reliability="estimate", notes="USD per t/yr of the model unit (t oxide-eq of the material). " + n) for s, m, v, lo, hi, n in capex])
OX = "Arafura Nolans opex: A$61.60/kg NdPr (2022, nsenergybusiness), A$46.60/kg (2021, miningweekly), US$25.94/kg (2019 DFS, businessnews); ahlulangmagnet (RE inputs 60-70% of magnet cost)"
opex = [
 ("mine", "NdPr", 14000, 8000, 20000, "Nolans integrated opex A$61.60/kg NdPr x 0.65 = ~US$40/kg; ~35% to mining/concentrating (ESTIMATE) = US$14k per t NdPr. Low from the 2019 DFS US$25.94/kg x 0.3."),
 ("mine", "DyTb", 90000, 40000, 200000, "Mine opex per t REO (~US$3.8k, from the NdPr row / 0.20 x 0.75 value share) x 0.20 DyTb value share / 0.0085 = ~US$90k per t DyTb."),
 ("separation", "NdPr", 26000, 15000, 35000, "Nolans integrated ~US$40/kg NdPr x ~65% to cracking and separation (ESTIMATE)."),
 ("separation", "DyTb", 100000, 50000, 200000, "ESTIMATE: heavy-RE SX is many stages at small volume; ~1/4-1/3 of 2024 Dy/Tb oxide value."),
 ("metal_alloy", "NdPr", 6000, 4000, 10000, "ESTIMATE: oxide-to-metal conversion ~US$5-10 per kg metal / 1.17 t oxide-eq per t metal."),
 ("metal_alloy", "DyTb", 20000, 10000, 40000, "ESTIMATE: Dy/Tb metal reduction."),
 ("magnet", "NdPr", 42000, 25000, 70000, "Magnet value ~49 USD/kg (China exports 2024); non-RE share 30-40% = ~US$17.5 per kg magnet x 0.81 NdPr value share / 0.34 t NdPr-eq per t magnet."),
 ("magnet", "DyTb", 280000, 150000, 600000, "~US$17.5 per kg magnet x 0.19 DyTb value share / 0.012 t DyTb-eq per t magnet."),
]
write("opex", [dict(stage=s, material=m, opex_usd_per_t=float(v), low=float(lo), high=float(hi), source=OX, source_year=2025,
                    reliability="estimate", notes="USD per t of the model unit produced, excluding the material input. ESTIMATE. " + n) for s, m, v, lo, hi, n in opex])

# ---------------------------------------------------------------- lead times
LT = REF + " section 5c (S&P Global 2023; IEA commentary Oct 2025 via REEx; project timelines)"
write("lead_times", [
 dict(stage="mine", country="", lead_time_years=8, low=5, high=16, source=LT, source_year=2025, reliability="estimate",
      notes="IEA: '8-year average lead time for new facilities'. Low 5 = advanced project with permits; high 16 = S&P discovery-to-production average 15.7 yr (17.9 yr for 2020-23 starts)."),
 dict(stage="mine", country="GRL", lead_time_years=12, low=8, high=18, source="Dataset estimate", source_year=2025, reliability="estimate",
      notes="Greenland: Arctic logistics, no infrastructure, short construction season; Greenland's 2021 uranium law blocks the Kvanefjeld deposit. ESTIMATE."),
 dict(stage="separation", country="", lead_time_years=4, low=2, high=6, source=LT, source_year=2025, reliability="estimate",
      notes="Greenfield refinery ~5 yr (Eneabba FID Apr 2022 -> 2027); brownfield 1-2.5 yr (La Rochelle, White Mesa Phase 1); Lynas Texas slipped 1 yr."),
 dict(stage="metal_alloy", country="", lead_time_years=2, low=1, high=3, source="Dataset estimate (no plant-level evidence in the research notes)", source_year=2025, reliability="estimate",
      notes="ESTIMATE: metal/alloy lines are built with or slightly before magnet lines (MP Fort Worth metal Jan 2025)."),
 dict(stage="magnet", country="", lead_time_years=3, low=2, high=4, source=LT, source_year=2025, reliability="secondary",
      notes="eVAC ~2 yr (Mar 2024 -> Dec 2025); Narva 2-3 yr; Fort Worth 3-3.5 yr; MP 10X 3 yr; USAR ~4 yr."),
])

# ---------------------------------------------------------------- build limits
BL = REF + " section 5c (ESTIMATE: ~5 kt/yr magnets and ~3 kt/yr NdPr separation per country per year)"
write("build_limits", [
 dict(stage="mine", material="NdPr", country="", max_build_t_per_yr=5000.0, low=2500.0, high=10000.0, source="Dataset estimate; Nolans 4,670 t/yr NdPr and Mt Weld expansion ~9,000 t/yr as single-project scale", source_year=2025, reliability="estimate",
      notes="ESTIMATE: about one large mine (~25 kt REO/yr) started per country per year."),
 dict(stage="mine", material="DyTb", country="", max_build_t_per_yr=200.0, low=100.0, high=500.0, source="Dataset estimate", source_year=2025, reliability="estimate",
      notes="ESTIMATE: 5,000 t NdPr-scale mine x (0.0085/0.20) ~ 210 t/yr DyTb; heavy-rich deposits allow more. Reserves x ore share / mine life also caps mines."),
 dict(stage="separation", material="NdPr", country="", max_build_t_per_yr=3000.0, low=2000.0, high=6000.0, source=BL, source_year=2025, reliability="estimate",
      notes="ESTIMATE ~3,000 t/yr NdPr per country per year (Lynas grew ~16%/yr despite A$1.5 bn); high = single Eneabba/White Mesa-scale plants (5,500-6,000)."),
 dict(stage="separation", material="DyTb", country="", max_build_t_per_yr=250.0, low=100.0, high=750.0, source="Dataset estimate; Eneabba 750 t/yr DyTb as the largest single plant", source_year=2025, reliability="estimate",
      notes="ESTIMATE: 100-750 t/yr of heavy separation started per country per year."),
 dict(stage="metal_alloy", material="NdPr", country="", max_build_t_per_yr=2000.0, low=1000.0, high=4000.0, source="Dataset estimate (tracks the magnet limit)", source_year=2025, reliability="estimate",
      notes="ESTIMATE: ~6,000 t NdFeB-equivalent of alloy x 0.34 = ~2,000 t/yr NdPr-eq."),
 dict(stage="metal_alloy", material="DyTb", country="", max_build_t_per_yr=60.0, low=30.0, high=150.0, source="Dataset estimate", source_year=2025, reliability="estimate",
      notes="ESTIMATE: ~5,000 t NdFeB-equivalent x 0.012."),
 dict(stage="magnet", material="NdPr", country="", max_build_t_per_yr=1700.0, low=1000.0, high=3400.0, source=BL, source_year=2025, reliability="estimate",
      notes="5,000 t NdFeB/yr x 0.34 t NdPr oxide-eq per t = 1,700 t/yr (3,000-10,000 t NdFeB; MP 10X adds 9,000 t in one plant)."),
 dict(stage="magnet", material="DyTb", country="", max_build_t_per_yr=60.0, low=24.0, high=200.0, source=BL, source_year=2025, reliability="estimate",
      notes="5,000 t NdFeB/yr x 0.012 t DyTb oxide-eq per t = 60 t/yr (3,000 x 0.008 to 10,000 x 0.02)."),
])

# ---------------------------------------------------------------- reserves
RES = [("CHN", 44000000, ""), ("BRA", 21000000, ""), ("IND", 6900000, ""), ("AUS", 5700000, "JORC-compliant reserves 3.3 Mt (USGS fn 13)."),
       ("RUS", 3800000, "Revised down from 10 Mt in MCS 2024."), ("VNM", 3500000, "Revised in MCS 2025."), ("USA", 1900000, ""),
       ("GRL", 1500000, ""), ("TZA", 890000, ""), ("ZAF", 860000, "Revised in MCS 2025."),
       ("CAN", 830000, "USGS also reports >14 Mt of measured and indicated resources (not reserves)."), ("THA", 4500, "")]
write("reserves", [dict(country=c, reserves_t=float(v), unit="t REO", source=USGS, source_year=2025, reliability="primary",
                        notes=(n + " " if n else "") + "Countries with NA reserves in USGS (Myanmar, Nigeria, Madagascar, Malaysia, Laos, others) are absent: no new mines there.") for c, v, n in RES])

# ---------------------------------------------------------------- demand
DEM = [  # iso, t NdFeB 2025, lo, hi, source, note
 ("USA", 20000, 15000, 25000, REF + " section 4 (US ~20,000 t/yr ESTIMATE: MP's 10,000 t/yr ~ 'nearly 50% of U.S. demand', Mining Technology via rjema.com)", "Section 232 (2022) expected US consumption to double within a decade."),
 ("CAN", 1500, 800, 3000, "Dataset estimate", "ESTIMATE: automotive assembly, motors and defence; ~7% of US demand."),
 ("GBR", 3000, 1500, 5000, "Dataset estimate", "ESTIMATE: automotive, offshore wind, aerospace/defence."),
 ("AUS", 500, 200, 1000, "Dataset estimate", "ESTIMATE: small manufacturing base."),
 ("NZL", 100, 50, 300, "Dataset estimate", "ESTIMATE: negligible manufacturing."),
 ("JPN", 17000, 15000, 25000, REF + " section 4 (Japan ESTIMATE 15,000-25,000 t/yr)", "Roughly Japan's own production (~14,500 t) plus a small import share."),
 ("KOR", 7000, 4000, 10000, "Dataset estimate (Korea a leading destination of China's magnet exports)", "ESTIMATE: EV motors, electronics and appliances."),
 ("DEU", 13000, 9000, 16000, REF + " section 4 (EU ~30,000-35,000 t/yr ESTIMATE; Narva 5,000 t ~15% of EU demand)", "ESTIMATE: ~40% of EU demand (automotive, industrial motors)."),
 ("FRA", 4500, 3000, 6000, REF + " section 4 (EU total ESTIMATE)", "ESTIMATE: ~14% of EU demand."),
 ("ITA", 4000, 2500, 5500, REF + " section 4 (EU total ESTIMATE)", "ESTIMATE: ~12% of EU demand."),
 ("NLD", 1000, 500, 2000, REF + " section 4 (EU total ESTIMATE)", "ESTIMATE: ~3% of EU demand."),
 ("SWE", 1500, 800, 2500, REF + " section 4 (EU total ESTIMATE)", "ESTIMATE: ~5% of EU demand (automotive, industrial)."),
 ("FIN", 1000, 500, 2000, REF + " section 4 (EU total ESTIMATE)", "ESTIMATE: ~3% of EU demand (industrial motors and generators)."),
 ("EST", 200, 50, 500, REF + " section 4 (EU total ESTIMATE)", "ESTIMATE: small domestic use (Narva supplies exports)."),
 ("NOR", 300, 100, 800, "Dataset estimate", "ESTIMATE: small manufacturing base."),
 ("IND", 5000, 2500, 10000, "Dataset estimate", "ESTIMATE: EVs (2- and 3-wheelers), electronics, wind."),
 ("VNM", 5000, 3000, 8000, "Dataset estimate", "ESTIMATE: electronics and motor assembly hub."),
 ("MYS", 1000, 500, 2000, "Dataset estimate", "ESTIMATE."),
 ("THA", 3000, 1500, 5000, "Dataset estimate", "ESTIMATE: automotive and hard-disk-drive assembly."),
 ("BRA", 1500, 800, 3000, "Dataset estimate", "ESTIMATE."),
 ("RUS", 1500, 800, 3000, "Dataset estimate", "ESTIMATE."),
 ("CHN", 215000, 190000, 240000, "MIIT 2021 production via horizonmagnets; Adamas citing China Customs (2024 exports 58,152 t)", "ESTIMATE: production ~270 kt (2024) minus 58 kt exports, grown to 2025. Only coalition members' demand is used by the model."),
 ("ROW", 12000, 7000, 20000, REF + " section 4 (EU total) and section 3a (global ~290-310 kt production)", "ESTIMATE: other EU members (~7,000 t: Spain, Denmark, Poland, Czechia, ...), Mexico, Turkey and others; closes the world total to ~320 kt in 2025."),
]
DSRC_G = "Adamas Intelligence Q3 2024 (NdFeB demand CAGR 8.7% 2024-2040); IEA GCMO 2024 (magnet REE demand 93 kt 2023 -> 131 kt 2030 APS = 5.0%/yr)"
dem = []
for iso, t, lo, hi, src, n in DEM:
    for mat, f, flo, fhi in (("NdPr", NDPR_PER_MAG, NDPR_PER_MAG_LO, NDPR_PER_MAG_HI), ("DyTb", DYTB_PER_MAG, DYTB_PER_MAG_LO, DYTB_PER_MAG_HI)):
        v = t * f
        dem.append(dict(country=iso, material=mat, base_year=2025, demand_t_per_yr=(r0(v) if mat == "NdPr" else r1(v)), unit="t/yr",
                        growth_rate=0.087, growth_low=0.05, growth_high=0.11,
                        low=(r0(lo * flo) if mat == "NdPr" else r1(lo * flo)), high=(r0(hi * fhi) if mat == "NdPr" else r1(hi * fhi)),
                        source=src + "; growth: " + DSRC_G, source_year=2025, reliability="estimate",
                        notes=f"{t:,} t NdFeB (2025) x {f} t {mat} oxide-eq per t magnet = {v:,.1f} t/yr (range {lo:,}-{hi:,} t x {flo}-{fhi}). {n} Growth 8.7%/yr (Adamas); low 5.0% (IEA APS 2023-2030); high 11% (ESTIMATE: faster electrification and reshoring)."))
write("demand", dem)

# ---------------------------------------------------------------- lanes
write("lanes", [
 dict(origin="AUS", destination="MYS", stage="mine", material="", transport_usd_per_t=400.0, tariff_rate=0.0,
      source="Lynas FY25 results (Mt Weld concentrate / Kalgoorlie MREC separated at Gebeng)", source_year=2025, reliability="estimate",
      notes="Dedicated Lynas corridor; transport ESTIMATE (below the 800 USD/t market-pool rate); AANZFTA, no tariff."),
 dict(origin="AUS", destination="USA", stage="mine", material="", transport_usd_per_t=500.0, tariff_rate=0.0,
      source="C&EN 2021; Rare Earth Exchanges Sep 2025 (Kalgoorlie MREC as Lynas Texas feed)", source_year=2025, reliability="estimate",
      notes="Planned Kalgoorlie MREC -> Seadrift corridor; transport ESTIMATE; AUSFTA, no tariff."),
 dict(origin="MYS", destination="JPN", stage="separation", material="", transport_usd_per_t=150.0, tariff_rate=0.0,
      source="The West Australian, 2025 (JOGMEC/Sojitz support for Lynas since 2010; Japanese offtake)", source_year=2025, reliability="estimate",
      notes="Lynas NdPr (and from 2025 Dy/Tb) oxide to Japanese metal/alloy makers; transport ESTIMATE; Malaysia-Japan EPA, no tariff."),
 dict(origin="VNM", destination="JPN", stage="metal_alloy", material="", transport_usd_per_t=150.0, tariff_rate=0.0,
      source=REF + " section 3 (Japan and Vietnam hold most ex-China metal/alloy)", source_year=2025, reliability="estimate",
      notes="Japanese-affiliated metal/alloy plants in Vietnam supplying Japanese magnet makers; transport ESTIMATE; CPTPP/VJEPA, no tariff."),
])

# ---------------------------------------------------------------- tariffs
write("tariffs", [
 dict(importer="USA", origin="CHN", stage="magnet", tariff_rate=0.271,
      source="USTR Section 301 four-year review, Notice of Modification, 89 FR 76581 (18 Sep 2024): permanent magnets 0% -> 25% from 1 Jan 2026; MFN 2.1% per Adams Magnetic Products (Jun 2025)", source_year=2024, reliability="secondary",
      notes="25% Section 301 + 2.1% MFN (HTS 8505.11/8505.19 permanent magnets) = 27.1%. IEEPA surcharges (10% fentanyl-related after 10 Nov 2025, 10% reciprocal) are left out as temporary and legally contested; add them with a scenario override. Rare-earth oxides and metals from China carry no Section 301 duty (not on the 2024 critical-minerals list), so no row for the other stages."),
])

# ---------------------------------------------------------------- third parties
TP = [("MYS", 0.7, 0.5, 0.9, 1.0, "Lynas Malaysia is Australian-owned and sells mainly to Japan, the US and Europe; Malaysian licence conditions are the risk."),
      ("VNM", 0.5, 0.3, 0.7, 1.0, "Japanese-affiliated metal and magnet plants export to allies."),
      ("THA", 0.2, 0.05, 0.4, 0.8, "2024 mine output is estimated from China's imports: it flows to China today."),
      ("BRA", 0.5, 0.3, 0.8, 1.0, "Western-financed ionic-clay and monazite projects; no export restrictions."),
      ("IND", 0.2, 0.05, 0.4, 0.5, "India prioritises domestic use of IREL output."),
      ("MMR", 0.05, 0.0, 0.15, 0.0, "Kachin output goes to China across the border; civil conflict."),
      ("LAO", 0.05, 0.0, 0.15, 0.0, "Ionic-clay output is Chinese-financed and exported to China."),
      ("NGA", 0.1, 0.0, 0.3, 0.5, "Artisanal by-product output sold to Chinese traders."),
      ("MDG", 0.3, 0.1, 0.5, 0.8, "Monazite by-product; Western-operated mineral-sands mines."),
      ("RUS", 0.0, 0.0, 0.05, 0.0, "Sanctions."),
      ("ZAF", 0.5, 0.3, 0.7, 1.0, "Western-financed projects (e.g. Phalaborwa, Steenkampskraal)."),
      ("TZA", 0.4, 0.2, 0.6, 1.0, "Western-financed projects (e.g. Ngualla)."),
      ("GRL", 0.8, 0.5, 1.0, 1.0, "Danish realm; projects financed by allies."),
      ("ROW", 0.3, 0.1, 0.5, 0.5, "Rest-of-world aggregate: mixed partners; half of new-build output assumed secured.")]
write("third_party", [dict(country=c, max_share_to_coalition=v, low=lo, high=hi, new_build_offtake_share=w, source="Dataset estimate", source_year=2025, reliability="estimate",
                           notes="ESTIMATE: share of existing output the country would sell to the coalition; new_build_offtake_share = share of the output of coalition-financed new capacity there that the coalition can count on (0 = no builds there). " + n) for c, v, lo, hi, w, n in TP])

# ---------------------------------------------------------------- stockpiles
write("stockpiles", [
 dict(country="JPN", material="NdPr", initial_stock_t=500.0, capacity_t=1000.0, holding_usd_per_t_yr=2000.0,
      source="Dataset estimate (JOGMEC national rare-metal stockpile; target ~60 days of consumption, contents undisclosed)", source_year=2025, reliability="estimate",
      notes="ESTIMATE (initial 200-1,000 t): 60 days of Japan's NdPr use (5,780 t/yr) ~ 950 t; assumed half filled. Stock held as oxide, counted as magnet-equivalent content. Holding ~3.5% of 56 USD/kg."),
 dict(country="JPN", material="DyTb", initial_stock_t=20.0, capacity_t=40.0, holding_usd_per_t_yr=11000.0,
      source="Dataset estimate (JOGMEC national rare-metal stockpile)", source_year=2025, reliability="estimate",
      notes="ESTIMATE (initial 5-40 t): 60 days of Japan's DyTb use (204 t/yr) ~ 34 t. Holding ~3% of ~370 USD/kg."),
 dict(country="USA", material="NdPr", initial_stock_t=100.0, capacity_t=1000.0, holding_usd_per_t_yr=2000.0,
      source="Dataset estimate (DLA National Defense Stockpile; NdPr oxide acquisitions in recent Annual Materials Plans)", source_year=2025, reliability="estimate",
      notes="ESTIMATE (initial 0-300 t): small defence-oriented holdings."),
 dict(country="USA", material="DyTb", initial_stock_t=5.0, capacity_t=50.0, holding_usd_per_t_yr=11000.0,
      source="Dataset estimate (DLA National Defense Stockpile)", source_year=2025, reliability="estimate",
      notes="ESTIMATE (initial 0-20 t)."),
 dict(country="KOR", material="NdPr", initial_stock_t=200.0, capacity_t=600.0, holding_usd_per_t_yr=2000.0,
      source="Dataset estimate (KOMIR / Public Procurement Service strategic stockpile)", source_year=2025, reliability="estimate",
      notes="ESTIMATE (initial 50-400 t)."),
 dict(country="KOR", material="DyTb", initial_stock_t=10.0, capacity_t=30.0, holding_usd_per_t_yr=11000.0,
      source="Dataset estimate (KOMIR / Public Procurement Service strategic stockpile)", source_year=2025, reliability="estimate",
      notes="ESTIMATE (initial 0-20 t)."),
])

# ---------------------------------------------------------------- parameters
write("parameters", [
 dict(name="mine_life_years", value=20.0, unit="yr", low=15.0, high=30.0, source="Dataset estimate (typical rare-earth mine plans, e.g. Nolans ~23-38 yr)", source_year=2025, reliability="estimate",
      notes="New mine capacity <= reserves x ore share / mine life."),
 dict(name="default_third_party_share", value=0.4, unit="fraction", low=0.3, high=0.5, source="Dataset estimate", source_year=2025, reliability="estimate",
      notes="Share of output a third party not listed in third_party.csv sells to the coalition (includes allies outside the chosen coalition)."),
 dict(name="default_new_build_offtake", value=1.0, unit="fraction", low=0.8, high=1.0, source="Dataset estimate", source_year=2025, reliability="estimate",
      notes="Share of the output of coalition-financed new capacity that the coalition can count on in a third party not listed in third_party.csv (the unlisted ones are allies and partners: Korea, EU members outside the chosen coalition, ...)."),
 dict(name="unmet_penalty", value=10.0, unit="ratio", low=5.0, high=20.0, source="Dataset estimate", source_year=2025, reliability="estimate",
      notes="Weight of 1 t of unmet coalition demand relative to 1 t of exposed delivery in the exposure objective."),
 dict(name="baseline_year", value=2024.0, unit="yr", low=2024.0, high=2024.0, source=USGS + " (2024 data year)", source_year=2025, reliability="primary",
      notes="Year described by capacity.csv."),
])
print("mine NdPr total t (production)", mine_ndpr_total, "DyTb", mine_dytb_total)
