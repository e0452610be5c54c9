"""The clinical protocol: every default the app uses, in one place, each with its source and sign-off status.

Each default is a proposal for sign-off by the hospital's ITB team and nursing policy; the app flags numbers
against them, the team decides. `REFERENCES` holds the full citation of every published source a screen cites
(by its short form, e.g. "Gilmartin et al. 2000"); `Protocol.sources` says, per default, what the sources say,
which references back it, and whether the hospital has signed it off (`SignOff`). Every interval is a field
here, so a hospital changes the protocol in one place, and the Protocol page (`/protocol`), which staff read,
shows what is in force with its references and sign-off status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Reference:
    """A published source, as a clinician would look it up."""

    key: str
    short: str  # how screens cite it, e.g. "Gilmartin et al. 2000"
    citation: str  # the full citation
    urls: tuple[str, ...] = ()


def _refs(*items: Reference) -> dict[str, Reference]:
    return {r.key: r for r in items}


REFERENCES: dict[str, Reference] = _refs(
    # The drug label and the manufacturer's information
    Reference("lioresal_pi", "Lioresal Intrathecal prescribing information",
              "Lioresal Intrathecal (baclofen injection) for intrathecal injection, US prescribing information. "
              "Saol Therapeutics, Roswell, Georgia; January 2019. Sections: screening phase, dose titration "
              "phase (starting pump dose), overdosage.",
              ("https://medlibrary.org/lib/rx/meds/baclofen-intrathecal-1/page/5/",
               "http://www.druglib.com/druginfo/lioresal-intrathecal/interactions_overdosage_contraindications/")),
    Reference("gablofen_pi", "Gablofen prescribing information",
              "Gablofen (baclofen injection) for intrathecal use, prescribing information: clinical pharmacology "
              "(onset, peak and duration of a bolus; similar in children and adults).",
              ("https://rxreasoner.com/monographs/gablofen/pharmacology",)),
    Reference("lioresal_hcp", "Lioresal Intrathecal screening information (manufacturer)",
              "Saol Therapeutics. Lioresal Intrathecal for healthcare professionals: \u201cScreening trial\u201d and "
              "\u201cScreening trial \u2013 what to expect\u201d; for patients: \u201cSafety\u201d.",
              ("https://lioresal.com/hcp/screening-trial/what-to-expect/", "https://lioresal.com/hcp/screening-trial/",
               "https://lioresal.com/lioresal-intrathecal/safety")),
    Reference("cheo_itb", "CHEO intrathecal baclofen monograph",
              "Children's Hospital of Eastern Ontario (CHEO), drug monograph: intrathecal baclofen (screening doses "
              "in children, starting daily pump dose, typical daily doses).",
              ("https://outreach.cheo.on.ca/node/1490",)),
    Reference("cheo_physostigmine", "CHEO physostigmine monograph",
              "Children's Hospital of Eastern Ontario (CHEO), drug monograph: physostigmine.",
              ("https://outreach.cheo.on.ca/node/1679",)),
    Reference("ahca_itb", "Florida AHCA intrathecal baclofen criteria",
              "Florida Agency for Health Care Administration: intrathecal baclofen criteria (summary of the label's "
              "screening doses, including 25 mcg in very small children).",
              ("http://healthdrugpdf.com/a/ahca.myflorida.com1.html",)),
    Reference("itb_dosing_refs", "Medscape and Drugs.com, intrathecal baclofen dosing",
              "Medscape: how is intrathecal baclofen dosed for spasticity; Drugs.com: baclofen dosage "
              "(50 mcg/mL screening ampoule, 1 mL per 50 mcg).",
              ("https://www.medscape.com/answers/2207448-173404/how-is-itb-dosed-for-the-treatment-of-spasticity",
               "https://www.drugs.com/dosage/baclofen.html")),
    Reference("cmsc2015", "CMSC 2015, best practices in ITB dosing",
              "Consortium of Multiple Sclerosis Centers, 2015 annual meeting: best practices in intrathecal baclofen "
              "dosing (starting pump dose, titration 5\u201315 % per 24 h in children).",
              ("https://cmsc.confex.com/cmsc/2015/webprogram/Paper3434.html",)),
    # Hospital protocols and guidelines
    Reference("bristol_itb", "Bristol Children's Hospital, ITB test dose",
              "University Hospitals Bristol, Bristol Royal Hospital for Children, paediatric neurosurgery: "
              "\u201cITB test dose\u201d and \u201cITB initial assessment\u201d (patient information).",
              ("https://www.uhbristol.nhs.uk/patients-and-visitors/your-hospitals/bristol-royal-hospital-for-children/"
               "what-we-do/paediatric-neurosurgery/intrathecal-baclofen-therapy/itb-test-dose/",)),
    Reference("schn_itb", "SCHN (Westmead) ITB guideline",
              "Sydney Children's Hospitals Network (The Children's Hospital at Westmead): intrathecal baclofen "
              "administration and patient management, practice guideline.",
              ("http://drugstorepdfsearch.com/s/schn.org1.html",)),
    Reference("nice_cg145", "NICE CG145",
              "National Institute for Health and Care Excellence. Spasticity in under 19s: management. Clinical "
              "guideline CG145, July 2012 (intrathecal baclofen recommendations).",
              ("https://1library.net/article/intrathecal-baclofen-clinical-guideline-published-july-nice-guidance."
               "y9gg3dgl",)),
    # Trials and studies of intrathecal baclofen
    Reference("gilmartin2000", "Gilmartin et al. 2000",
              "Gilmartin R, Bruce D, Storrs BB, et al. Intrathecal baclofen for management of spastic cerebral "
              "palsy: multicenter trial. J Child Neurol 2000;15(2):71\u20137.",
              ("https://einstein.elsevierpure.com/en/publications/intrathecal-baclofen-for-management-of-spastic-"
               "cerebral-palsy-mul-2",)),
    Reference("hoving2007", "Hoving et al. 2007",
              "Hoving MA, van Raak EPM, Spincemaille GHJJ, Palmans LJ, Sleypen FAM, Vles JSH. Intrathecal baclofen "
              "in children with spastic cerebral palsy: a double-blind, randomized, placebo-controlled, "
              "dose-finding study. Dev Med Child Neurol 2007;49(9):654\u20139.",
              ("https://www.unboundmedicine.com/medline/citation/17718820/",)),
    Reference("ko2000", "Ko et al. 2000",
              "Ko et al. Intrathecal baclofen bolus trial in children (indwelling lumbar catheter, 25 mcg steps, "
              "Ashworth at 2, 4 and 6 h). Hong Kong J Paediatr 2000;5:125.",
              ("https://hkjpaed.org/details.asp?id=213&show=12",)),
    Reference("shin2015", "Shin et al. 2015",
              "Shin et al. Three-day intrathecal baclofen bolus trial in ambulant children with cerebral palsy. "
              "Brain & NeuroRehabilitation 2015;8:104.",
              ("https://bvbvf1.bib-bvb.de/vufind/PrimoRecord/cdi_nrf_kci_oai_kci_go_kr_ARTI_1080956",)),
    Reference("yoon2017", "Yoon et al. 2017",
              "Yoon et al. Intrathecal baclofen screening in cerebral palsy: response rates and loss of standing in "
              "ambulant patients. Medicine (Baltimore) 2017;96:e7472.",
              ("https://pmc.ncbi.nlm.nih.gov/articles/PMC5571990",)),
    Reference("time_course", "Time course of an ITB bolus in cerebral spasticity",
              "Time course of the effect of a bolus dose of intrathecal baclofen on severe cerebral spasticity "
              "(effect from about 2 to 8.5 h, lowest MAS at 4 h).",
              ("https://discovery.researcher.life/article/time-course-of-the-effect-of-a-bolus-dose-of-intrathecal-"
               "baclofen-on-severe-cerebral-spasticity/d166ad594b1031079da6cb5e00869ecd",)),
    Reference("meythaler1996", "Meythaler et al. 1996",
              "Meythaler JM, et al. Bolus intrathecal baclofen in spastic hypertonia after brain injury (maximal "
              "effect 4 h after 50 mcg). 1996; PubMed 8629922.",
              ("https://www.ai-bt.com/si.php?db=pubmed&id=8629922",)),
    Reference("bleyenheuft2007", "Bleyenheuft et al. 2007",
              "Bleyenheuft C, Filipetti P, Caldas C, Lejeune T. Experience with external pump trial prior to "
              "implantation for intrathecal baclofen in ambulatory patients with spastic cerebral palsy. "
              "Neurophysiol Clin 2007;37(1):23\u20138.",
              ("https://www.unboundmedicine.com/medline/citation/17418354/",)),
    Reference("overdose1991", "ITB overdose, 7 events in 5 patients (1991)",
              "Intrathecal baclofen overdose: report of 7 events in 5 patients (1991): CSF drainage where "
              "physostigmine was inconsistent.",
              ("https://acemap.info/paper/164881186",)),
    Reference("csf_leak2024", "Cureus 2024, CSF leak after ITB procedures",
              "Cerebrospinal fluid leak after intrathecal baclofen pump procedures. Cureus 2024 (post-dural "
              "headache is hard to detect in non-verbal children).",
              ("https://bohrium.dp.tech/paper/arxiv/38962607",)),
    Reference("baclofen_adverse", "Baclofen adverse effects (UpToDate)",
              "Baclofen: adverse effects table, UpToDate (urinary retention, a class effect reported with oral "
              "baclofen).",
              ("https://medilib.ir/uptodate/show/63526",)),
    Reference("fadavis_baclofen", "F.A. Davis PT drug guide, baclofen",
              "F.A. Davis. Drug guide for physical therapists: baclofen (screening where resuscitation equipment "
              "is at hand).",
              ("https://fadavisat.mhmedical.com/content.aspx?bookid=1873&sectionid=139002636",)),
    # PT instruments
    Reference("bohannon1987", "Bohannon & Smith 1987",
              "Bohannon RW, Smith MB. Interrater reliability of a modified Ashworth scale of muscle spasticity. "
              "Phys Ther 1987;67(2):206\u20137.",
              ("https://nursing-science.com/knowledgebase/how-is-the-modified-ashworth-scale-scored",)),
    Reference("mas_coding2013", "J NeuroEng Rehabil 2013;10:61",
              "J NeuroEng Rehabil 2013;10:61, Table 2: the Modified Ashworth Scale coded 0\u20135 for analysis "
              "(1+ = 2).",
              ("https://jneuroengrehab.biomedcentral.com/articles/10.1186/1743-0003-10-61/tables/2",)),
    Reference("mutlu2008", "Mutlu et al. 2008",
              "Mutlu A, Livanelioglu A, Gunel MK. Reliability of Ashworth and Modified Ashworth scales in children "
              "with spastic cerebral palsy. BMC Musculoskelet Disord 2008;9:44.",
              ("https://pmc.ncbi.nlm.nih.gov/articles/PMC2330046",)),
    Reference("mas_muscles", "MAS by muscle group (worked examples)",
              "Modified Ashworth Scale administration by joint and muscle group: 222health.com; Table 1 of "
              "PMC5947854.",
              ("https://222health.com/conditions-treatments/disabilities/35485.html",
               "https://pmc.ncbi.nlm.nih.gov/articles/PMC5947854/table/Tab1")),
    Reference("tardieu", "Tardieu 1954, Boyd & Graham 1999",
              "Tardieu G, Shentoub S, Delarue R. \u00c0 la recherche d'une technique de mesure de la spasticit\u00e9. "
              "Rev Neurol (Paris) 1954;91:143\u20134. Modified Tardieu Scale: Boyd RN, Graham HK. Objective "
              "measurement of clinical findings in the use of botulinum toxin type A for the management of "
              "children with cerebral palsy. Eur J Neurol 1999;6(Suppl 4):S23\u201335.",
              ("http://dss.dign.eu/details.php?id=55",
               "https://forum.physiobase.com/neuro-physiotherapy/4422-measuring-spasticity-post34921.html")),
    Reference("tardieu_speed2022", "Children 2022;9:827",
              "Modified Ashworth and Modified Tardieu scales with a standardised (metronome) stretch speed. "
              "Children (Basel) 2022;9(6):827.",
              ("https://doi.org/10.3390/children9060827",)),
    Reference("banky2019", "Banky et al. 2019",
              "Banky M, et al. Modified Tardieu Scale: muscles and angles tested. J Rehabil Med 2019.",
              ("https://www.medicaljournals.se/jrm/content/html/10.2340/16501977-2496",)),
    Reference("goniometry2009", "BMC Medicine 2009;7:65",
              "BMC Medicine 2009;7:65, Table 2: goniometric passive range of motion in children with cerebral "
              "palsy (positions).",
              ("https://bmcmedicine.biomedcentral.com/articles/10.1186/1741-7015-7-65/tables/2",)),
    Reference("popliteal2021", "BMC Musculoskelet Disord 2021 (popliteal angle)",
              "Reliability of the unilateral and bilateral popliteal angle. BMC Musculoskelet Disord 2021.",
              ("https://bmcmusculoskeletdisord.biomedcentral.com/articles/10.1186/s12891-021-04135-6",)),
    Reference("execp2021", "EXECP protocol 2021",
              "EXECP trial protocol, Table 4: flexibility tests. BMC Sports Sci Med Rehabil 2021.",
              ("https://bmcsportsscimedrehabil.biomedcentral.com/articles/10.1186/s13102-021-00242-y/tables/4",)),
    Reference("gmfcs", "Palisano et al. (GMFCS)",
              "Palisano R, Rosenbaum P, Walter S, et al. Development and reliability of a system to classify gross "
              "motor function in children with cerebral palsy. Dev Med Child Neurol 1997;39(4):214\u201323; "
              "expanded and revised (GMFCS E&R) 2007.",
              ("https://bmcpediatr.biomedcentral.com/articles/10.1186/s12887-015-0433-5/tables/2",)),
    Reference("thompson2008", "Thompson et al. 2008",
              "Thompson P, Beath T, Bell J, et al. Test\u2013retest reliability of the 10-metre fast walk test and "
              "6-minute walk test in ambulatory school-aged children with cerebral palsy. Dev Med Child Neurol "
              "2008;50(5):370\u20136.",
              ("https://experts.mcmaster.ca/display/publication473179",)),
    Reference("tug_review", "Timed Up and Go in children (review)",
              "The Timed Up and Go test in children: a review of reliability and protocols (PMC4182976).",
              ("https://pmc.ncbi.nlm.nih.gov/articles/PMC4182976",)),
    Reference("mackey2003", "Mackey et al. 2003 (OGS)",
              "Mackey AH, Lobb GL, Walt SE, Stott NS. Reliability and validity of the Observational Gait Scale in "
              "children with spastic diplegia. Dev Med Child Neurol 2003;45(1):4\u201311.",
              ("https://assesschild.com/observational-gait-scale?open=true",)),
    Reference("read2003", "Read et al. 2003 (EVGS)",
              "Read HS, Hazlewood ME, Hillman SJ, Prescott RJ, Robb JE. Edinburgh visual gait score for use in "
              "cerebral palsy. J Pediatr Orthop 2003;23(3):296\u2013301. Proposed minimal clinically important "
              "difference 2.4 after surgery: neurosurgery.directory.",
              ("http://blogs.elon.edu/ptkids/2017/03/06/edinburgh-visual-gait-score/",
               "https://neurosurgery.directory/tag/score/")),
    Reference("penn1989", "Penn et al. 1989",
              "Penn RD, Savoy SM, Corcos D, et al. Intrathecal baclofen for severe spinal spasticity. N Engl J Med "
              "1989;320(23):1517\u201321 (Penn Spasm Frequency Scale).",
              ("https://commondataelements.ninds.nih.gov/ReportViewer.aspx?/nindscdereports/rptNOC&rs:Command="
               "Render&rc:Parameters=false&crfID=F1765",)),
    # Goal Attainment Scaling
    Reference("kiresuk1968", "Kiresuk & Sherman 1968",
              "Kiresuk TJ, Sherman RE. Goal attainment scaling: a general method for evaluating comprehensive "
              "community mental health programs. Community Ment Health J 1968;4(6):443\u201353.",
              ("http://studylib.net/doc/27300761/tools-gas-practical-guide",)),
    Reference("turner_stokes2009", "Turner-Stokes 2009",
              "Turner-Stokes L. Goal attainment scaling (GAS) in rehabilitation: a practical guide. Clin Rehabil "
              "2009;23(4):362\u201370.",
              ("http://studylib.net/doc/27300761/tools-gas-practical-guide",)),
    Reference("bonouvrie2019", "Bonouvri\u00e9 et al. 2019 (IDYS trial)",
              "Bonouvri\u00e9 LA, Becher JG, Vles JSH, Vermeulen RJ, Buizer AI; IDYS Study Group. The effect of "
              "intrathecal baclofen in dyskinetic cerebral palsy: the IDYS trial. Ann Neurol 2019;86(1):79\u201390.",
              ("https://pmc.ncbi.nlm.nih.gov/articles/PMC6617761",)),
    # Vital signs (the clinical defaults for nursing observations)
    Reference("fleming2011", "Fleming et al. 2011 (PALS ranges)",
              "Fleming S, Thompson M, Stevens R, et al. Normal ranges of heart rate and respiratory rate in "
              "children from birth to 18 years of age: a systematic review of observational studies. Lancet "
              "2011;377(9770):1011\u20138, web appendix (American Heart Association PALS 2006 awake ranges).",
              ()),
    Reference("pals_hypotension", "PALS definition of hypotension",
              "American Heart Association. Pediatric Advanced Life Support provider manual: hypotension is a "
              "systolic pressure below 70 mmHg (1\u201312 months), below 70 + 2 \u00d7 age in years (1\u201310 years), "
              "below 90 mmHg (10 years and over).",
              ()),
    Reference("malviya2002", "Malviya et al. 2002 (UMSS)",
              "Malviya S, Voepel-Lewis T, Tait AR, et al. Depth of sedation in children undergoing computed "
              "tomography: validity and reliability of the University of Michigan Sedation Scale (UMSS). "
              "Br J Anaesth 2002;88(2):241\u20135.",
              ()),
    Reference("nice_ng143", "NICE NG143",
              "National Institute for Health and Care Excellence. Fever in under 5s: assessment and initial "
              "management. NICE guideline NG143, 2019.",
              ()),
)


def cite(*keys: str) -> str:
    """The short citations of these references, for plain text ("Gilmartin et al. 2000; Hoving et al. 2007")."""
    return "; ".join(REFERENCES[k].short for k in keys)


@dataclass(frozen=True)
class SignOff:
    """A default's source and sign-off: what the sources say (`note`, plain words), the references behind it
    (keys of REFERENCES, none when no published source sets it) and whether the hospital has signed it off
    (`signed_off`: who and when, e.g. "ITB team, 3 March 2027"; None while still to confirm)."""

    note: str
    refs: tuple[str, ...] = ()
    signed_off: str | None = None

    @property
    def status(self) -> str:
        return f"Hospital sign-off: {self.signed_off}" if self.signed_off else "Hospital sign-off: pending"

    @property
    def cited(self) -> str:
        """The note with its short citations, as plain text."""
        return f"{self.note} ({cite(*self.refs)})" if self.refs else self.note


@dataclass(frozen=True)
class MonitoringPhase:
    """Observations every `every_minutes`, either `count` times or until `until_minutes` after the dose."""

    every_minutes: int
    count: int | None = None
    until_minutes: int | None = None

    def describe(self) -> str:
        every = f"every {self.every_minutes} min" if self.every_minutes < 60 or self.every_minutes % 60 else (
            "hourly" if self.every_minutes == 60 else f"every {self.every_minutes // 60} h")
        if self.count is not None:
            return f"{every} \u00d7 {self.count}"
        return f"{every} to {_hours(self.until_minutes or 0)} after the dose"


def _hours(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes // 60} h {minutes % 60:02d}"


DEFAULT_MONITORING = (
    MonitoringPhase(every_minutes=15, count=4),
    MonitoringPhase(every_minutes=30, count=2),
    MonitoringPhase(every_minutes=60, until_minutes=8 * 60),
    MonitoringPhase(every_minutes=240, until_minutes=24 * 60),
)


def _sources() -> dict[str, SignOff]:
    """Per default: what the sources say, the references, and the hospital's sign-off (none signed off yet)."""
    return {
        "allowed_bolus_mcg": SignOff(
            "The label's screening steps are 50, 75 and 100 mcg; many children respond at 12.5\u201325 mcg",
            ("lioresal_pi", "ahca_itb", "hoving2007", "shin2015")),
        "ceiling_mcg": SignOff(
            "No response at 100 mcg means not a candidate for a pump", ("lioresal_hcp", "lioresal_pi")),
        "override_role": SignOff(
            "Hospital default, no published source: above the ceiling only by a neurosurgeon, with a reason and "
            "an explicit confirmation showing mcg, mL and mcg/kg"),
        "absolute_max_mcg": SignOff(
            "Hospital default, no published source sets an absolute maximum for a screening bolus: 150 mcg is "
            "1.5 \u00d7 the label's last screening step (100 mcg)", ("lioresal_pi",)),
        "min_interval_hours": SignOff(
            "One bolus per calendar day, at least 24 h after the previous one (the label's 24 h spacing)",
            ("lioresal_pi", "ko2000")),
        "concentration_mcg_per_ml": SignOff(
            "50 mcg/mL screening ampoule: 1 mL per 50 mcg, for the nurse's double-check", ("itb_dosing_refs",)),
        "day1_default_mcg": SignOff(
            "Label screening dose 50 mcg; 25 mcg may be used first in very small children",
            ("ahca_itb", "cheo_itb")),
        "default_dose_time": SignOff("Hospital default, no published source: pre-filled dose time"),
        "dose_overdue_after_minutes": SignOff("Hospital default, no published source: for the ward list only"),
        "reassess_after_minutes": SignOff(
            "Reassess at 4 h (window 3\u20135 h): lowest MAS at 4 h, maximal effect 4 h after 50 mcg; units "
            "reassess at about 3\u20134 h", ("time_course", "meythaler1996", "bristol_itb")),
        "mas_mapping": SignOff(
            "Raw grade stored; means use a mapping shown beside every mean. The original 0\u20134 Ashworth scale, "
            "on which the responder threshold was published, with 1+ = 1.5 (no published source codes 1+ as 1.5); "
            "the 0\u20135 coding is an option", ("gilmartin2000", "bohannon1987", "mas_coding2013")),
        "tone_response_threshold": SignOff(
            "Responder: an average reduction of at least 1.0 in the lower-limb Ashworth score (multicentre "
            "trial in cerebral palsy)", ("gilmartin2000",)),
        "gas_rho": SignOff(
            "Aggregate GAS T-score, with \u03c1 = 0.3; 50 = goals met as expected",
            ("kiresuk1968", "turner_stokes2009", "bonouvrie2019")),
        "gas_max_goals": SignOff(
            "Hospital default, no published source: a handful of individual goals agreed with the family; "
            "weights 1\u20133 for importance"),
        "effect_hours": SignOff(
            "Hospital default, no published source: data-entry limits for the effect's onset and duration (a "
            "bolus acts from 0.5\u20131 h, peaks at about 4 h and lasts 4\u20138 h)", ("gablofen_pi",)),
        "pump_dose": SignOff(
            "Starting daily pump dose: twice the effective screening bolus over 24 h, or the bolus itself over "
            "24 h when its effect lasted more than 8 h", ("lioresal_pi", "cheo_itb", "cmsc2015")),
        "monitoring": SignOff(
            "Hospital default, no published paediatric source for checks every 15 min after an intrathecal "
            "bolus: every 15 min \u00d7 4, every 30 min \u00d7 2, hourly to 8 h (onset, 4 h peak and 8 h tail), then "
            "4-hourly, stopping at 24 h when the next bolus may be given", ("gablofen_pi",)),
        "observation_checks": SignOff(
            "Hospital default: what each check covers, a pre-dose baseline and continuous SpO2 for at least "
            "8 h (the bolus's duration)", ("gablofen_pi",)),
        "obs_tolerance": SignOff(
            "Hospital default, no published source: an observation up to 5 min early counts for its slot; one "
            "not taken 5 min after its time is overdue"),
        "monitoring_overdue_shown_hours": SignOff(
            "Hospital default, no published source: the ward keeps a child whose final check is overdue for "
            "12 h after it, also once the trial is closed"),
        "escalation_obs_every_minutes": SignOff(
            "Hospital default: observations every 15 min until reviewed (rapid-response escalation; published "
            "sources give the routine schedule only)", ("schn_itb",)),
        "vital_limits": SignOff(
            "Alert limits for highlighting, not normal values; published ranges disagree with measured centiles",
            ("fleming2011", "pals_hypotension", "malviya2002", "nice_ng143")),
        "adverse_effects": SignOff(
            "Adverse effects and overdose signs of intrathecal baclofen", ("lioresal_pi", "gilmartin2000",
                                                                             "hoving2007")),
        "escalation_checklist": SignOff(
            "Steps from the label's overdose section and hospital guidelines; the steps without a reference are "
            "hospital defaults", ("lioresal_pi", "schn_itb")),
        "instrument_limits": SignOff(
            "Hospital default, no published source: plausibility limits for data entry (refused outside), not "
            "clinical ranges"),
        "reason_min_chars": SignOff(
            "Hospital default, no published source: a reason of at least a sentence, 20 characters and 4 words"),
    }


@dataclass(frozen=True)
class Protocol:
    # Dosing
    allowed_bolus_mcg: tuple[Decimal, ...] = tuple(Decimal(v) for v in ("12.5", "25", "50", "75", "100"))
    ceiling_mcg: Decimal = Decimal("100")
    override_role: str = "surgeon"  # only a neurosurgeon may go above the ceiling, and must give a reason
    # No bolus above this on any path, whatever the override (hospital default: needs clinical sign-off).
    absolute_max_mcg: Decimal = Decimal("150")
    min_interval_hours: int = 24
    concentration_mcg_per_ml: Decimal = Decimal("50")
    day1_default_mcg: Decimal = Decimal("50")
    day1_small_child_mcg: Decimal = Decimal("25")
    trial_days: int = 3
    default_dose_time: str = "09:00"
    # A planned dose not given this long after its planned time shows as overdue on the ward.
    dose_overdue_after_minutes: int = 30
    # PT reassessment after the bolus
    reassess_after_minutes: int = 4 * 60
    reassess_window_from_minutes: int = 3 * 60
    reassess_window_to_minutes: int = 5 * 60
    # PT tone criterion: numeric MAS mapping for means, and the responder threshold
    mas_mapping: str = "ashworth_0_4"  # a key of server.assessments.instruments.MAS_MAPPINGS
    tone_response_threshold: Decimal = Decimal("1.0")  # mean lower-limb reduction, same-day baseline vs post-dose
    # Goal Attainment Scaling: at most this many goals per trial; rho in the aggregate T-score formula
    gas_max_goals: int = 5
    gas_rho: Decimal = Decimal("0.3")
    # The day decision's record of the effect: onset (hours after the dose) and how long it lasted (hours),
    # data-entry limits, to `effect_hours_places` decimal places.
    effect_onset_max_hours: Decimal = Decimal("12")
    effect_duration_min_hours: Decimal = Decimal("0.5")
    effect_duration_max_hours: Decimal = Decimal("48")
    effect_hours_places: int = 1
    # Starting pump dose (the label's rule): `pump_dose_factor` x the effective bolus per 24 h, or
    # `pump_long_effect_factor` x when its effect lasted more than `pump_long_effect_hours`.
    pump_dose_factor: Decimal = Decimal("2")
    pump_long_effect_hours: Decimal = Decimal("8")
    pump_long_effect_factor: Decimal = Decimal("1")
    # Nursing observations after the bolus
    monitoring: tuple[MonitoringPhase, ...] = DEFAULT_MONITORING
    # An observation taken up to this early still counts for its slot; later than this after it, it is overdue.
    obs_early_minutes: int = 5
    obs_overdue_after_minutes: int = 5
    # A final observation left undone keeps the child on the ward this long after its time, whatever the
    # trial's status; then the monitoring after that dose has ended.
    monitoring_overdue_shown_hours: int = 12
    # While an overdose sign is open (not yet recorded as acted on), observations are due this often.
    escalation_obs_every_minutes: int = 15
    # A reason that must be "at least a sentence" (ceiling override, dose correction, acted-on record, an
    # outcome recorded with evidence missing): this many characters and words, at least.
    reason_min_chars: int = 20
    reason_min_words: int = 4
    sources: dict[str, SignOff] = field(default_factory=_sources)

    def volume_ml(self, dose_mcg: Decimal) -> Decimal:
        """The volume to draw up at the configured concentration, to 0.01 mL."""
        return (Decimal(dose_mcg) / self.concentration_mcg_per_ml).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def above_absolute_max(self, dose_mcg: Decimal) -> str | None:
        """The message for a bolus above the absolute maximum (no override passes it), else None. The schemas
        (at the edge) and dosing.services.dose_errors (on every path) both use it."""
        if Decimal(dose_mcg) <= self.absolute_max_mcg:
            return None
        return (f"{format_mcg(Decimal(dose_mcg))} mcg is above the absolute maximum of "
                f"{format_mcg(self.absolute_max_mcg)} mcg per bolus: no override allows it. Enter a dose up to "
                f"{format_mcg(self.absolute_max_mcg)} mcg.")

    def effect_hours_message(self, field_name: str) -> str:
        example = "e.g. 1 or 0.5" if field_name == "effect_onset_hours" else "e.g. 6 or 5.5"
        low, high = ((Decimal(0), self.effect_onset_max_hours) if field_name == "effect_onset_hours"
                     else (self.effect_duration_min_hours, self.effect_duration_max_hours))
        what = "when the effect began, in hours after the dose" if field_name == "effect_onset_hours" \
            else "how long the effect lasted, in hours"
        return (f"Enter {what}: from {format_mcg(low)} to {format_mcg(high)}, at most {self.effect_hours_places} "
                f"decimal place ({example}).")

    def effect_hours_errors(self, onset: Decimal | None, duration: Decimal | None) -> dict[str, list[str]]:
        """The bounds of the effect's onset and duration (each optional), by field. The decision schema (at the
        edge), the decision service (every path) and the demo loader all use it."""
        errors: dict[str, list[str]] = {}
        limits = {"effect_onset_hours": (onset, Decimal(0), self.effect_onset_max_hours),
                  "effect_duration_hours": (duration, self.effect_duration_min_hours, self.effect_duration_max_hours)}
        for name, (value, low, high) in limits.items():
            if value is None:
                continue
            value = Decimal(value)
            exponent = value.as_tuple().exponent
            too_fine = isinstance(exponent, int) and -exponent > self.effect_hours_places \
                and value != value.quantize(Decimal(1).scaleb(-self.effect_hours_places))
            if not value.is_finite() or not low <= value <= high or too_fine:
                errors[name] = [self.effect_hours_message(name)]
        return errors

    def mcg_per_kg(self, dose_mcg: Decimal, weight_kg: Decimal) -> Decimal:
        """The dose per kilogram of body weight, to 0.01 mcg/kg."""
        return (Decimal(dose_mcg) / Decimal(weight_kg)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def is_full_reason(self, text: str | None) -> bool:
        """At least a sentence: `reason_min_chars` characters and `reason_min_words` words."""
        words = [w for w in (text or "").split() if any(c.isalnum() for c in w)]
        return len((text or "").strip()) >= self.reason_min_chars and len(words) >= self.reason_min_words

    def reason_rule(self) -> str:
        return f"at least a sentence ({self.reason_min_chars} characters and {self.reason_min_words} words)"

    def monitoring_summary(self) -> str:
        return ", ".join(p.describe() for p in self.monitoring)

    def gas_formula(self) -> str:
        """The aggregate GAS T-score formula, with this protocol's rho."""
        return ("T = 50 + 10\u00b7\u03a3(w\u1d62x\u1d62) / "
                "\u221a((1\u2212\u03c1)\u03a3w\u1d62\u00b2 + \u03c1(\u03a3w\u1d62)\u00b2), "
                f"\u03c1 = {self.gas_rho}")

    def effect_hours_rule(self) -> str:
        return (f"onset 0\u2013{format_mcg(self.effect_onset_max_hours)} h after the dose; lasted "
                f"{format_mcg(self.effect_duration_min_hours)}\u2013{format_mcg(self.effect_duration_max_hours)} h; "
                f"in hours, to {self.effect_hours_places} decimal place")

    def pump_rule(self) -> str:
        """The starting pump dose rule in words, with this protocol's numbers."""
        def times(factor: Decimal) -> str:
            return {Decimal(1): "the bolus dose itself", Decimal(2): "twice the bolus dose"}.get(
                factor, f"{format_mcg(factor)} \u00d7 the bolus dose")
        return (f"{times(self.pump_dose_factor).capitalize()} per 24 h, or {times(self.pump_long_effect_factor)} "
                f"per 24 h when its effect lasted more than {format_mcg(self.pump_long_effect_hours)} h; the "
                "basis is the lowest bolus that met the tone criterion")

    def reassessment_summary(self) -> str:
        return (f"{_hours(self.reassess_after_minutes)} after the dose (window "
                f"{_hours(self.reassess_window_from_minutes)} to {_hours(self.reassess_window_to_minutes)})")


DEFAULT_PROTOCOL = Protocol()


def current_protocol() -> Protocol:
    return DEFAULT_PROTOCOL


def format_mcg(value: Decimal | None) -> str:
    if value is None:
        return "not set"
    return f"{value.normalize():f}"
